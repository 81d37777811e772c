// The plain reference of the gradient soft-prompt training needs: the prompt pass run forward
// with its activations kept (a "tape"), then backward from a gradient on the final hidden state
// to the gradient on the P×C prompt embeddings. GPT-2 is frozen, so no weight gradient is formed.
//
// Only the prompt pass is differentiated. The text's keys and values do not depend on the prompt
// (the prompt comes after the text and attention is causal), so the text pass runs once without
// gradients and its cache is a constant here: the backward pass flows through the prompt rows'
// attention into the cached text keys/values (as weights of the softmax and the value mix) but
// never into the text pass itself.
//
// Written like gpt2_reference.cpp (llm.c style, one loop nest per kernel, shape comments):
// float32 inputs, every activation and accumulation in double, single-threaded, so it is the
// yardstick for a fast path and for finite differences. Checked against HuggingFace autograd's
// `prompt_grad` (tests/unit/test_prompt_grad.cpp gives the errors).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "core/matrix.hpp"
#include "model/gpt2_reference.hpp"
#include "model/gpt2_weights.hpp"

namespace promptlens::train {

// What the backward pass of one layer reads, all in double. Tp = cached text length,
// Tk = Tp + P keys; H heads of width hd = C / H.
struct LayerTape {
    MatrixD xhat1;              // P×C  ln_1 input, normalised
    std::vector<double> rstd1;  // P    ln_1 1/sqrt(var + eps)
    MatrixD q, k, v;            // P×C  the prompt rows' queries, keys, values
    std::vector<double> probs;  // P×H×Tk  softmax weights; row t uses keys 0 … Tp+t
    MatrixD xhat2;              // P×C  ln_2 input, normalised
    std::vector<double> rstd2;  // P
    MatrixD fc_pre;             // P×I  c_fc output before gelu_new
};

struct PromptTape {
    size_t prompt_rows = 0;           // P
    size_t position_start = 0;        // the prompt's positions: start … start+P-1
    std::vector<LayerTape> layers;    // n_layer
    std::vector<double> xhat_f;       // C  ln_f input at the last prompt position, normalised
    double rstd_f = 0;                //    its 1/sqrt(var + eps)
    std::vector<double> last_hidden;  // C  after ln_f at the last prompt position
};

// Forward: the same numbers as `reference_prompt_pass` (hidden state in double), with the tape.
// The prompt (P×C input embeddings) is double so finite differences can probe it finely.
// position_start defaults to the cache length (per-row positions).
PromptTape reference_prompt_forward(const Gpt2Weights& w, const KvCache& cache,
                                    const MatrixD& prompt,
                                    std::optional<size_t> position_start = {});

// Backward: d_last_hidden (C) = dLoss/d(last hidden after ln_f) → dLoss/dprompt (P×C).
// `cache` must be the one the tape was recorded with.
MatrixD reference_prompt_backward(const Gpt2Weights& w, const KvCache& cache,
                                  const PromptTape& tape, std::span<const double> d_last_hidden);

}  // namespace promptlens::train
