// Loading a trained soft prompt (P input embeddings of width n_embd) from the files the seed and
// its users produce: `.npy` (numpy), `.safetensors` (one tensor, or the one named), and `.pt` /
// `.pth` / `.bin` written by torch.save (a tensor, an nn.Parameter, or a dict holding one tensor;
// zip or legacy format; read without Python, see torch_file.hpp). Shapes [1, P, C] and [P, C] are
// accepted; anything else, or a width C different from the model's n_embd, is an Error naming the
// file and both numbers.
#pragma once

#include <filesystem>
#include <string>

#include "core/matrix.hpp"

namespace promptlens {

// Returns the prompt as P×C float32 (f16/bf16/f64 files are converted; f16/bf16 exactly).
// `tensor_name` picks a tensor in a multi-tensor safetensors or torch file; "" means "the only
// one".
Matrix load_soft_prompt(const std::filesystem::path& path, size_t n_embd,
                        const std::string& tensor_name = "");

}  // namespace promptlens
