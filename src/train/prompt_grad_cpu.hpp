// The fast CPU path of the prompt gradient: the same computation as prompt_grad_reference.hpp
// (forward with a tape, backward to the prompt embeddings only, text K/V constant), for a whole
// batch at once in float32. The B texts' prompt rows are stacked (B·P rows), so every linear
// layer is one GEMM over the batch — forward through the CPU model's kernels (gpt2_cpu_gemm.hpp),
// backward dX = dY·Wᵀ with OpenBLAS over fixed column blocks — and only attention runs per text,
// against that text's cache. Column blocks and loops are fixed by the shapes, so results do not
// depend on the thread count. Tested against the reference (tests/unit/test_prompt_grad.cpp).
#pragma once

#include <memory>
#include <vector>

#include "core/matrix.hpp"
#include "model/backend.hpp"
#include "model/gpt2_cpu.hpp"

namespace promptlens::train {

class PromptGradCpu {
  public:
    // `model` must outlive this. With a bf16 model the forward GEMMs run in bf16 (mixed precision:
    // ~1e-2 relative error) and the backward ones in fp32 on the same checkpoint weights.
    explicit PromptGradCpu(const Gpt2CpuModel& model);
    ~PromptGradCpu();
    PromptGradCpu(const PromptGradCpu&) = delete;
    PromptGradCpu& operator=(const PromptGradCpu&) = delete;

    // prompt (P×C) after each of the cache's B texts (positions len_b …): returns the final hidden
    // state after ln_f at each text's last prompt position (B×C) and keeps the tape. The cache
    // must stay alive and unchanged until backward.
    Matrix forward(const PackedKvCache& cache, ConstMatView prompt, int threads);

    // d_last (B×C) = dLoss/d(last hidden) → dLoss/dprompt (P×C), summed over the texts in order.
    MatrixD backward(ConstMatView d_last, int threads);

  private:
    struct Tape;
    const Gpt2CpuModel& m_;
    std::unique_ptr<Tape> tape_;
};

}  // namespace promptlens::train
