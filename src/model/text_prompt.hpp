// A prompt written as text instead of trained: `--text-prompt NAME="Review sentiment:"` is
// tokenised by the caller and each id's row of wte is taken, giving the P×C input embeddings the
// prompt pass expects (the model adds wpe, so this is the same as appending the ids to the text).
// Lets users compare a trained soft prompt with a plain-language one through the same pipeline.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/matrix.hpp"
#include "model/gpt2_weights.hpp"

namespace promptlens {

// ids: P ≥ 1 token ids < vocab_size → P×C rows of wte. `name` is used in errors.
Matrix text_prompt_embeddings(const Gpt2Weights& w, std::span<const int32_t> ids,
                              const std::string& name);

}  // namespace promptlens
