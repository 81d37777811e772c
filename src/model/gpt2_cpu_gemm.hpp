// The linear layers of the CPU GPT-2 path: C = [C +] A·W + bias [then GELU], with A the packed
// activation rows (M×K float32) and W a Conv1D weight (K×N, row-major in×out). The kernel tier
// (model/kernel_tier.hpp) picks the code:
//
//  * fp32, avx512 / avx2: W is read in place from the memory-mapped checkpoint (no copy of our
//    own). A task (row block, group of four 48-column panels) copies its panels of W over all of
//    K into a per-thread buffer, then runs register tiles (avx512: 8×48, 24 zmm accumulators;
//    avx2: 4×24, 12 ymm accumulators, each panel stored as two 24-column halves) in sub-blocks of
//    96 rows: per sub-block the k blocks of 256 outermost, then the panels, then the 8-row tiles,
//    so a panel's k block of W is reused from L1 by all the sub-block's tiles and the
//    sub-block's A from L2 by all four panels. The epilogue (bias, GELU) runs on each tile as its
//    last k block finishes. Both tiers add the same chain of FMAs per element: the same bits.
//  * fp32, portable: one OpenBLAS sgemm per tile of 256 output columns (× 2 or 4 row blocks
//    when that makes the tile count a multiple of 4).
//  * bf16 (opt-in): W converted once to bfloat16 (round to nearest even) and stored pre-packed in
//    the panel layout (2 bytes per parameter: a copy, ~170 MB for GPT-2 124M). A is rounded to
//    bf16 per call. With AVX-512 BF16, vdpbf16ps multiplies pairs exactly and accumulates in
//    fp32, with the same task plan and loop nest as fp32. Without it (avx2, or avx512 without
//    BF16), A's rounded values are kept as floats and each task widens its bf16 panels to fp32
//    (exact), then runs the tier's fp32 tiles: the products are exact either way, only the order
//    of the fp32 sums differs. Portable: a plain loop with the same rounding
//    (`bf16_gemm_reference`).
//
// Determinism: with the tiled kernels every output element is one fixed chain of operations
// (k blocks of 256 in order, then the epilogue) whatever the task plan, the thread count or the
// rows around it: a row's result is the same bytes alone or packed with others. The portable fp32
// tiles are fixed by the shape, so they too never depend on the thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/matrix.hpp"

namespace promptlens {

enum class Precision { fp32, bf16 };

const char* precision_name(Precision p);
Precision parse_precision(const std::string& name);  // "fp32" | "bf16", else Error

// float32 → bfloat16 bits, round to nearest even (NaN kept quiet), and back.
uint16_t to_bf16(float x);
float from_bf16(uint16_t b);

// One K×N linear weight as the kernels read it.
class LinearWeight {
  public:
    static constexpr size_t kPanel = 48;  // output columns per panel (3 zmm / 6 ymm registers)
    LinearWeight() = default;
    // w: K×N (must outlive this for fp32, where it is read in place).
    LinearWeight(ConstMatView w, Precision p);

    size_t in() const { return K_; }
    size_t out() const { return N_; }
    Precision precision() const { return precision_; }
    size_t panels() const { return (N_ + kPanel - 1) / kPanel; }
    size_t copied_bytes() const { return bf16_.size() * sizeof(uint16_t); }
    ConstMatView fp32() const { return w_; }
    // bf16: panel p is Kp/2 k-pairs × 48 columns × 2 (k even, k odd), zero-padded (Kp = K rounded
    // up to even; columns past N are zero).
    const uint16_t* bf16_panel(size_t p) const { return bf16_.data() + p * (Kp_ / 2) * kPanel * 2; }
    size_t k_padded() const { return Kp_; }

  private:
    ConstMatView w_;
    size_t K_ = 0, N_ = 0, Kp_ = 0;
    Precision precision_ = Precision::fp32;
    std::vector<uint16_t> bf16_;
};

// Scratch of `linear` (bf16 copies of A), allocated once and reused across calls.
struct LinearScratch {
    std::vector<uint16_t> a_bf16;                               // AVX-512 BF16: A as bf16 pairs
    std::vector<float, DefaultInitAllocator<float>> a_rounded;  // other tiers: A's bf16 values
};

enum class Activation { none, gelu_new };

// C (M×N) = (accumulate ? C : 0) + A (M×K) · W + bias, then `act` (gelu_new only without
// accumulate). Parallel over W's column panels on up to `threads` threads.
void linear(ConstMatView A, const LinearWeight& W, std::span<const float> bias, Activation act,
            bool accumulate, MatView C, int threads, LinearScratch& scratch);

// The plain bf16 oracle: A and W rounded to bf16 (RNE), products exact, fp32 sums in k order.
// C (M×N) = A·W, no bias.
void bf16_gemm_reference(ConstMatView A, ConstMatView W, MatView C);

}  // namespace promptlens
