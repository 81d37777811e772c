// A deterministic random-weight GPT-2 written as a real HuggingFace model folder (config.json,
// model.safetensors, vocab.json, merges.txt): for the demo and for tests when no real weights are
// at hand. Weights follow GPT-2's initialisation (normal with std 0.02, residual projections
// scaled by 1/sqrt(2·n_layer), LayerNorm weights 1, biases 0) from our seeded generator, so the
// same options give the same bytes. Features from such a model describe nothing about language:
// whoever shows them must say so.
#pragma once

#include <cstdint>
#include <filesystem>

namespace promptlens {

struct RandomGpt2Options {
    size_t layers = 2, heads = 4, embd = 128, positions = 1024;
    uint64_t seed = 0;
    std::filesystem::path tokenizer;  // folder with GPT-2's vocab.json and merges.txt (copied)
};

// Writes the folder `dir` (created; files written atomically). The vocabulary size is read from
// the tokenizer's vocab.json.
void write_random_gpt2(const std::filesystem::path& dir, const RandomGpt2Options& options);

}  // namespace promptlens
