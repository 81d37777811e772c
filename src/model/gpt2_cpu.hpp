// The fast CPU forward pass of GPT-2 with soft prompts: the same two operations as the reference
// (model/gpt2_reference.hpp), over many sequences packed without padding (model/backend.hpp).
//
// How it is fast: every linear layer is one GEMM over ALL packed rows (model/gpt2_cpu_gemm.hpp:
// register-tile kernels of the CPU's tier, model/kernel_tier.hpp — AVX-512 or AVX2 fp32 tiles
// reading the weights from the mapped file, an AVX-512 BF16 kernel or widened bf16 panels for
// bf16, OpenBLAS on the portable tier), parallel over panel groups, with bias and gelu_new fused
// into the block epilogue and the residual added by the same GEMM (beta = 1). LayerNorm runs over
// fixed 64-row blocks. Attention runs per (sequence, head) in a per-worker scratch, in fp32 for
// both precisions (model/gpt2_cpu_attention.hpp: in the text pass only the lower triangle, on the
// same tiles). The passes' buffers come from a pool kept by the model, so repeated passes do not
// fault fresh pages in for every chunk. Softmax and gelu_new (x·sigmoid(2u), the exact identity
// for 0.5·x·(1+tanh u)) use a Cephes-style expf in the tier's intrinsics
// (model/gpt2_cpu_elementwise.hpp). The text pass stops after the last layer's K/V. Stage
// times: `Gpt2CpuStageTimes`.
//
// Precision (opt-in bf16): the four linear layers of every block take bf16 weights (converted once:
// a 2-byte copy of 85M parameters for 124M, ~170 MB, on top of the mapped fp32 file) and bf16-
// rounded activations, with fp32 accumulation; embeddings, LayerNorm, attention, softmax, GELU,
// residuals, ln_f and the LM head stay fp32. Errors against fp32 are measured in
// tests/unit/test_gpt2_cpu.cpp.
//
// Determinism: block boundaries depend only on the packed input, never on the thread count, and
// every (sequence, head) task and every output element of a linear layer is computed alone, so the
// bytes are identical for any `threads`. With the tiled kernel tiers (avx512, avx2:
// model/kernel_tier.hpp) a sequence's hidden states are also the same bytes whatever it is packed
// with; on the portable tier (OpenBLAS tiles rows at other offsets) the last bits may move;
// tests/unit/test_gpt2_cpu.cpp checks both.
// Accuracy (fp32): float32 accumulation (the reference uses double); against the reference ≤ 1e-5
// on hidden states and 5e-5 on logits for the tiny test model (measured values in the test).
#pragma once

#include <memory>

#include "model/backend.hpp"
#include "model/gpt2_cpu_gemm.hpp"
#include "model/gpt2_weights.hpp"

namespace promptlens {

struct Gpt2CpuOptions {
    int threads = 1;                        // 0 = all hardware threads; results do not depend on it
    Precision precision = Precision::fp32;  // bf16: about 2× faster linear layers, ~1e-2 error
};

// The weights as the CPU kernels read them: fp32 in place from `w` (which must outlive this), or
// for bf16 a converted, panel-packed copy of every block's four linear layers.
struct Gpt2CpuModel {
    struct Layer {
        LinearWeight q, k, v;  // the three column blocks of c_attn (C×C each)
        LinearWeight attn_proj, fc, mlp_proj;
    };
    Gpt2CpuModel(const Gpt2Weights& w, Precision precision);
    const Gpt2Weights& weights;
    Precision precision;
    std::vector<Layer> layers;
    size_t copied_bytes() const;  // memory held beyond the mapped checkpoint

    // The passes' scratch buffers, kept between passes (so each pass does not fault in ~30 kB
    // per token afresh) and shared by copies of this model; thread-safe.
    struct Pool;
    std::shared_ptr<Pool> pool;
};

// q, k, v (R×C each, any strides) = h·W + b for the three column blocks of c_attn (bias: its 3C
// values); q with no rows is skipped.
void cpu_qkv(const Gpt2CpuModel::Layer& K, std::span<const float> c_attn_b, ConstMatView h,
             MatView q, MatView k, MatView v, int threads, LinearScratch& scratch);
// The same into one R×3C matrix (columns q | k | v, as c_attn lays them out).
void cpu_qkv(const Gpt2CpuModel::Layer& K, std::span<const float> c_attn_b, ConstMatView h,
             MatView qkv, int threads, LinearScratch& scratch);

// Wall-clock seconds per stage of a text pass, summed over layers (a profile, for benches).
struct Gpt2CpuStageTimes {
    double alloc = 0, embed = 0, layernorm = 0, qkv = 0, attention = 0, attn_proj = 0, fc_gelu = 0,
           mlp_proj = 0;
};

// texts: N ≥ 1 sequences, each 1 … n_positions ids < vocab_size. `times`, when given, receives
// the stage profile.
PackedKvCache cpu_text_pass(const Gpt2CpuModel& m, const PackedTokens& texts, int threads,
                            Gpt2CpuStageTimes* times = nullptr);

// prompt: P×C (P ≥ 1). Every start_i + P must fit in n_positions.
BatchPromptResult cpu_prompt_pass(const Gpt2CpuModel& m, const PackedKvCache& cache,
                                  ConstMatView prompt, const BatchPromptOptions& options,
                                  int threads);

// The same, converting the weights for this one call (cheap for fp32: nothing is copied).
PackedKvCache cpu_text_pass(const Gpt2Weights& w, const PackedTokens& texts,
                            const Gpt2CpuOptions& options = {});
BatchPromptResult cpu_prompt_pass(const Gpt2Weights& w, const PackedKvCache& cache,
                                  ConstMatView prompt, const BatchPromptOptions& options = {},
                                  const Gpt2CpuOptions& cpu = {});

// The CPU implementation of the backend seam. Keeps a reference to `w`: it must outlive this.
// Converts the weights once at construction (bf16: ~2 bytes per linear-layer parameter).
class Gpt2CpuBackend final : public Gpt2Backend {
  public:
    explicit Gpt2CpuBackend(const Gpt2Weights& w, Gpt2CpuOptions options = {})
        : model_(w, options.precision), options_(options) {}
    std::string name() const override {
        return std::string("cpu-") + precision_name(options_.precision);
    }
    PackedKvCache text_pass(const PackedTokens& texts) const override {
        return cpu_text_pass(model_, texts, options_.threads);
    }
    BatchPromptResult prompt_pass(const PackedKvCache& cache, ConstMatView prompt,
                                  const BatchPromptOptions& options = {}) const override {
        return cpu_prompt_pass(model_, cache, prompt, options, options_.threads);
    }
    const Gpt2CpuModel& model() const { return model_; }

  private:
    Gpt2CpuModel model_;
    Gpt2CpuOptions options_;
};

// Dataset indices cut into chunks for the packed passes: indices sorted by length (stable, so
// equal lengths keep dataset order), then cut greedily so no chunk holds more than
// `max_tokens` tokens (a longer sequence gets a chunk alone). Row r of a chunk's results belongs
// to dataset index chunk[r]. Example: lengths {5, 1, 3}, max_tokens 4 → {{1, 2}, {0}}.
std::vector<std::vector<size_t>> length_sorted_chunks(std::span<const size_t> lengths,
                                                      size_t max_tokens);

}  // namespace promptlens
