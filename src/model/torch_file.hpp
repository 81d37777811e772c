// PyTorch checkpoints read without Python: `torch.save` files in the zip format (1.6+: entries
// `<archive>/data.pkl` and `<archive>/data/<key>`, the archive folder name taken from the entries)
// and the legacy format (magic 0x1950a86a20f9469cfc6c, protocol version, sys_info, the object
// pickle, the storage-key list, then each storage as an 8-byte element count and raw bytes).
// The object pickle goes through the restricted unpickler (torch_pickle.hpp): nothing in the file
// is ever executed. A file may hold a single tensor / nn.Parameter or a state dict; nested dicts
// (e.g. {"state_dict": {...}}) are flattened with "." and non-tensor values are listed as
// ignored. Storages are read once and shared, so tied tensors (lm_head.weight and wte.weight) point
// at the same floats. Floating storages (f32/f16/bf16/f64) are held as float32 (exact for f16 and
// bf16); integer and bool storages keep their raw bytes. Tensors must be contiguous views
// (any storage offset); others are refused naming the tensor, its shape and strides.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/safetensors.hpp"  // TensorDType, shape_string

namespace promptlens {

struct TorchStorage {
    std::string key;
    TensorDType dtype = TensorDType::F32;  // as stored in the file
    size_t numel = 0;
    // Floating storages converted to float32 (numel values); empty otherwise.
    std::shared_ptr<const std::vector<float>> f32;
    std::vector<std::byte> raw;  // integer / bool storages: numel × element size bytes
};

struct TorchTensor {
    std::string name;  // key in the (flattened) state dict; "" for a file holding one tensor
    std::vector<size_t> shape;
    TensorDType dtype = TensorDType::F32;
    std::shared_ptr<const TorchStorage> storage;
    size_t offset = 0;  // first element inside the storage
    bool parameter = false;

    size_t count() const;                // elements (1 for a 0-d tensor)
    bool is_floating() const;            // F32, F16, BF16, F64
    std::span<const float> f32() const;  // the values as float32; throws for non-floating dtypes
};

struct TorchFile {
    std::filesystem::path path;
    bool legacy = false;               // pre-1.6 format
    bool single_tensor = false;        // the file holds one tensor (or Parameter), not a dict
    std::string archive;               // zip format: the archive folder name ("pytorch_model")
    std::vector<TorchTensor> tensors;  // in file order
    std::vector<std::string> ignored;  // non-tensor entries ("epoch (int)")

    const TorchTensor* find(const std::string& name) const;  // nullptr when absent
    const TorchTensor& get(const std::string& name) const;   // throws naming file and tensor
};

// Reads a torch.save file (zip or legacy). Errors name the file and what is wrong: not a torch
// file, compressed or truncated entries, a refused pickle global, a missing storage record, a
// storage too small for a tensor, a non-contiguous tensor.
TorchFile load_torch_file(const std::filesystem::path& path);

}  // namespace promptlens
