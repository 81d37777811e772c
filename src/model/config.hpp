// GPT-2 hyper-parameters read from a HuggingFace `config.json` (the fields GPT2LMHeadModel uses).
// Every size of GPT-2 (124M … 1.5B, distilgpt2) is described by this file alone. Missing or
// malformed fields, and options this engine does not implement (another activation, attention
// scaling variants), are refused with a message naming the file and the field rather than being
// silently computed differently from transformers.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace promptlens {

struct Gpt2Config {
    size_t n_layer = 0;      // transformer blocks
    size_t n_head = 0;       // attention heads; n_embd must be divisible by it
    size_t n_embd = 0;       // model width C
    size_t n_positions = 0;  // rows of wpe: the longest text + prompt a row may have
    size_t vocab_size = 0;   // rows of wte
    size_t n_inner = 0;      // MLP width; `null` or absent in config.json means 4 * n_embd
    double layer_norm_epsilon = 1e-5;
    std::string activation_function = "gelu_new";  // only gelu_new (tanh approximation)
    bool tie_word_embeddings = true;               // lm_head = wte (HF default for GPT-2)

    size_t head_dim() const { return n_embd / n_head; }
};

// Parses the text of a config.json; `source` names it in error messages.
Gpt2Config parse_gpt2_config(const std::string& json_text, const std::string& source);
Gpt2Config read_gpt2_config(const std::filesystem::path& path);

}  // namespace promptlens
