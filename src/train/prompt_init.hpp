// The starting point of a trained soft prompt (P×C input embeddings), as in Lester et al. 2021:
//  random  N(0, σ²) with σ the standard deviation of the model's token embeddings (wte), so the
//          prompt starts at the scale the model expects;
//  vocab   P rows of wte drawn (with a seed, without replacement) from the 5,000 lowest ids —
//          byte-level BPE ids follow merge order, so these are the most common tokens;
//  text    the embeddings of a text's tokens, repeated or cut to P rows ("Review sentiment:").
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/matrix.hpp"
#include "model/gpt2_weights.hpp"

namespace promptlens::train {

enum class PromptInit { random, vocab, text };
PromptInit parse_prompt_init(const std::string& name);  // random | vocab | text
const char* prompt_init_name(PromptInit init);

// text_ids is used by PromptInit::text only (and must then be non-empty).
MatrixD initial_prompt(const Gpt2Weights& w, PromptInit init, size_t rows, uint64_t seed,
                       std::span<const int32_t> text_ids = {});

}  // namespace promptlens::train
