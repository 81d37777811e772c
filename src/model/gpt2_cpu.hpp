// The fast CPU forward pass of GPT-2 with soft prompts: the same two operations as the reference
// (model/gpt2_reference.hpp), over many sequences packed without padding (model/backend.hpp).
//
// How it is fast: every linear layer is one float32 GEMM over all packed rows (OpenBLAS,
// single-threaded), cut into fixed blocks of 64 rows that `parallel_for` spreads over threads;
// per row block LayerNorm → GEMM → bias (+ GELU, + residual) run back to back while the block is
// in cache. Attention runs per (sequence, head) as two small GEMMs (Q·Kᵀ, softmax, P·V) in a
// per-worker scratch. LayerNorm, softmax and gelu_new (x·sigmoid(2u), the exact identity for
// 0.5·x·(1+tanh u)) are plain loops over lanes the compiler vectorises, with a Cephes-style expf.
// All scratch of a pass is one allocation. The text pass stops after the last layer's K/V.
//
// Determinism: block boundaries depend only on the packed input, never on the thread count, and
// every (sequence, head) task is computed alone, so the bytes are identical for any `threads`.
// A sequence's features may differ in the last bits between packings (its rows fall at other
// offsets of OpenBLAS's tiles); tests/unit/test_gpt2_cpu.cpp measures how much.
// Accuracy: float32 accumulation (the reference uses double); against the reference ≤ 1e-5 on
// hidden states and 5e-5 on logits for the tiny test model (measured values in the test).
#pragma once

#include <memory>

#include "model/backend.hpp"
#include "model/gpt2_weights.hpp"

namespace promptlens {

struct Gpt2CpuOptions {
    int threads = 1;  // 0 = all hardware threads; results do not depend on it
};

// texts: N ≥ 1 sequences, each 1 … n_positions ids < vocab_size.
PackedKvCache cpu_text_pass(const Gpt2Weights& w, const PackedTokens& texts,
                            const Gpt2CpuOptions& options = {});

// prompt: P×C (P ≥ 1). Every start_i + P must fit in n_positions.
BatchPromptResult cpu_prompt_pass(const Gpt2Weights& w, const PackedKvCache& cache,
                                  ConstMatView prompt, const BatchPromptOptions& options = {},
                                  const Gpt2CpuOptions& cpu = {});

// The CPU implementation of the backend seam. Keeps a reference to `w`: it must outlive this.
class Gpt2CpuBackend final : public Gpt2Backend {
  public:
    explicit Gpt2CpuBackend(const Gpt2Weights& w, Gpt2CpuOptions options = {})
        : w_(w), options_(options) {}
    std::string name() const override { return "cpu-fp32"; }
    PackedKvCache text_pass(const PackedTokens& texts) const override {
        return cpu_text_pass(w_, texts, options_);
    }
    BatchPromptResult prompt_pass(const PackedKvCache& cache, ConstMatView prompt,
                                  const BatchPromptOptions& options = {}) const override {
        return cpu_prompt_pass(w_, cache, prompt, options, options_);
    }

  private:
    const Gpt2Weights& w_;
    Gpt2CpuOptions options_;
};

// Dataset indices cut into chunks for the packed passes: indices sorted by length (stable, so
// equal lengths keep dataset order), then cut greedily so no chunk holds more than
// `max_tokens` tokens (a longer sequence gets a chunk alone). Row r of a chunk's results belongs
// to dataset index chunk[r]. Example: lengths {5, 1, 3}, max_tokens 4 → {{1, 2}, {0}}.
std::vector<std::vector<size_t>> length_sorted_chunks(std::span<const size_t> lengths,
                                                      size_t max_tokens);

}  // namespace promptlens
