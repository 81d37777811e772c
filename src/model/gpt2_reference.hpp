// The plain reference forward pass of GPT-2 with a soft prompt, written for reading (llm.c style:
// one loop nest per kernel, shape comments), not for speed. It is the yardstick that faster paths
// (GEMM library, AVX-512, bf16, a GPU behind a backend seam) are tested against, and it matches
// HuggingFace transformers 4.31 in float32 (tests/unit/test_gpt2_reference.cpp gives the errors).
// Storage is float32 as in HF; every dot product, LayerNorm moment and softmax sum is accumulated
// in double, so this path sits closer to the exact answer than HF's own float32 run.
// Single-threaded on purpose: results cannot depend on a thread count.
//
// The computation the seed performs, split in two so several prompts can reuse one text pass:
//  * text pass: token ids (T) → per-layer K/V cache; no LM head. Text positions are 0 … T-1.
//  * prompt pass: P soft-prompt input embeddings (P×C; the model adds wpe) attend to the cached
//  text
//    and to each other causally; returns the final hidden state (after ln_f) at the last prompt
//    position and, on request, all P hidden states and logits (full vocabulary or chosen ids).
//    Prompt positions are start … start+P-1 with start = T by default ("per row": a row's features
//    never depend on other rows). HuggingFace's batched pipeline instead starts every row at the
//    padded length of its batch; passing that start reproduces it exactly without any padding
//    (see `hf_padded_prompt_starts`).
// There is no attention mask: sequences are never padded, so every cached token is attended to
// (an in-text <|endoftext|> included, as with attention_mask 1 in HF).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/matrix.hpp"
#include "model/gpt2_weights.hpp"

namespace promptlens {

// Keys and values of one sequence: per layer a T×C matrix, head h in columns [h·hd, (h+1)·hd)
// (the layout c_attn produces; HF's past_key_values[l][0] is its [n_head, T, hd] transpose).
// Keys are stored before the 1/sqrt(hd) scaling, as in HF.
struct KvCache {
    size_t length = 0;      // T
    std::vector<Matrix> k;  // n_layer × (T×C)
    std::vector<Matrix> v;  // n_layer × (T×C)
};

struct TextPassOptions {
    bool keep_hidden_states = false;  // fill TextPassResult::hidden_states
};

struct TextPassResult {
    KvCache cache;
    // When asked, HF's `output_hidden_states`: n_layer+1 matrices T×C: [0] = wte[ids] + wpe[0..T),
    // [l] = after block l-1, and the LAST entry is after ln_f (not the raw last block output).
    std::vector<Matrix> hidden_states;
};

// ids: T token ids, 1 ≤ T ≤ n_positions, each < vocab_size.
TextPassResult reference_text_pass(const Gpt2Weights& w, std::span<const int32_t> ids,
                                   const TextPassOptions& options = {});

enum class LogitsRequest {
    none,      // no LM head (the default)
    full,      // all vocab_size logits
    selected,  // only PromptPassOptions::logit_token_ids, in that order
};

struct PromptPassOptions {
    // First prompt position. Default: the cache length (per-row positions len_i …). The seed's
    // compatibility mode passes the padded length of the batch the seed would have formed.
    std::optional<size_t> position_start = std::nullopt;
    bool keep_all_hidden = false;                // fill PromptPassResult::all_hidden
    LogitsRequest logits = LogitsRequest::none;  // LM head on the last position
    std::vector<int32_t> logit_token_ids = {};   // for LogitsRequest::selected
};

struct PromptPassResult {
    size_t position_start = 0;       // the positions used were position_start … +P-1
    std::vector<float> last_hidden;  // C, after ln_f, at the last prompt position
    Matrix all_hidden;               // P×C after ln_f, when keep_all_hidden
    std::vector<float> logits;       // vocab_size, or one per selected id; empty for none
};

// prompt: P×C input embeddings (P ≥ 1, C = n_embd). The cache is read, not modified.
PromptPassResult reference_prompt_pass(const Gpt2Weights& w, const KvCache& cache,
                                       ConstMatView prompt, const PromptPassOptions& options = {});

// The prompt start HF's batched pipeline uses for each row: rows are cut into consecutive batches
// of `batch_size`, and every row of a batch starts at the longest length in that batch.
std::vector<size_t> hf_padded_prompt_starts(std::span<const size_t> lengths, size_t batch_size);

}  // namespace promptlens
