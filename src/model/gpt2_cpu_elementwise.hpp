// The vectorised element-wise pieces of the CPU GPT-2 passes (model/gpt2_cpu.cpp, the attention
// and linear kernels, the training step): exp, softmax, bias and gelu_new. Each runs the kernel
// tier's code (model/kernel_tier.hpp): AVX-512 or AVX2 intrinsics, or loops the compiler
// vectorises for SSE2 — the same formulas and polynomial everywhere. GELU's division is a
// refined reciprocal on AVX-512 (rcp14 + one Newton step) and a true division elsewhere, so the
// last bits may differ between tiers; tests hold every tier to the double-precision formulas.
#pragma once

#include <cstddef>
#include <span>

#include "core/matrix.hpp"

namespace promptlens {

// Cephes expf polynomial, inputs clamped to [-87, 88]: |relative error| ≲ 2 ulp.
float exp_approx(float x);
// r[0, n) = softmax(scale · r[0, n)), max subtracted; scale > 0.
void softmax_inplace(float* r, size_t n, float scale = 1.0f);
// y += bias (per column).
void add_bias(MatView y, std::span<const float> bias);
// y = gelu_new(y + bias), gelu_new(v) = 0.5·v·(1 + tanh(√(2/π)(v + 0.044715v³))).
void add_bias_gelu(MatView y, std::span<const float> bias);

}  // namespace promptlens
