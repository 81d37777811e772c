// The parameters of a GPT-2 model, as float32 spans, checked against its config.json.
// Names are accepted with or without the `transformer.` prefix (hub files have none,
// `save_pretrained` adds it); the causal-mask buffers `attn.bias` / `attn.masked_bias` are ignored;
// `lm_head.weight` is tied to `wte` unless config.json says `tie_word_embeddings: false`.
// Weights come from model.safetensors or, failing that, pytorch_model.bin (torch_file.hpp).
// float32 tensors stay inside the memory-mapped file (no copy); float16/bfloat16 tensors are
// converted to float32 once at load. Conv1D weights are stored [in, out], so a linear layer is
// y = x · W + b with W row-major in×out.
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/config.hpp"
#include "model/safetensors.hpp"

namespace promptlens {

struct Gpt2LayerWeights {
    std::span<const float> ln_1_w, ln_1_b;            // C, C
    std::span<const float> c_attn_w, c_attn_b;        // C×3C (columns q | k | v), 3C
    std::span<const float> attn_proj_w, attn_proj_b;  // C×C, C
    std::span<const float> ln_2_w, ln_2_b;            // C, C
    std::span<const float> fc_w, fc_b;                // C×I, I   (I = n_inner)
    std::span<const float> mlp_proj_w, mlp_proj_b;    // I×C, C
};

struct Gpt2Weights {
    Gpt2Config config;
    std::span<const float> wte;  // V×C token embeddings
    std::span<const float> wpe;  // n_positions×C position embeddings
    std::vector<Gpt2LayerWeights> layers;
    std::span<const float> ln_f_w, ln_f_b;  // C, C
    std::span<const float> lm_head;         // V×C; the same memory as wte when tied

    // What the loader did, for reports and tests.
    std::string prefix;                        // "" or "transformer."
    size_t converted_tensors = 0;              // tensors copied to float32 (F16/BF16/unaligned)
    std::vector<std::string> ignored_tensors;  // attn.bias buffers and names GPT-2 does not use

    // Keeps the mapping and any converted tensors alive as long as the spans are used.
    std::shared_ptr<const SafetensorsFile> file;
    // (shared, so a copy of Gpt2Weights keeps pointing at live buffers).
    std::vector<std::shared_ptr<const std::vector<float>>> owned;
};

// Binds every GPT-2 parameter in `file`, checking each shape against `config`. A missing tensor or
// a wrong shape is an Error naming the file, the tensor, and the expected and actual shapes.
Gpt2Weights load_gpt2_weights(std::shared_ptr<const SafetensorsFile> file,
                              const Gpt2Config& config);

// The same from a PyTorch state dict (pytorch_model.bin, read without Python by torch_file.hpp).
// `file` is not referenced afterwards: the weights share its float32 storages through `owned`
// (`file` above stays null). f16/bf16/f64 storages count as converted_tensors.
struct TorchFile;
Gpt2Weights load_gpt2_weights(const TorchFile& file, const Gpt2Config& config);

// A HuggingFace model folder: config.json + model.safetensors, or pytorch_model.bin when there is
// no model.safetensors.
Gpt2Weights load_gpt2_model(const std::filesystem::path& dir);

}  // namespace promptlens
