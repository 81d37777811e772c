// A restricted unpickler for what `torch.save` writes: a state dict (dicts / OrderedDicts of
// tensors, nested dicts, plain numbers and strings) or a single tensor / nn.Parameter. It never
// imports or calls anything. Like `torch.load(weights_only=True)` it resolves GLOBAL only against a
// fixed allow-list — collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_tensor /
// _rebuild_parameter and the torch.*Storage types — and refuses everything else (os.system,
// builtins.eval, …) with an Error naming module.name and the file; REDUCE can only "call" those
// allowed names, which this code interprets itself. Storages are persistent ids
// ('storage', torch.FloatStorage, key, location, numel[, view]) and come back as references for
// the caller (torch_file.cpp) to resolve. Opcodes: protocol 2 plus the few cheap protocol 4 ones
// (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL); anything else is an Error with its offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "model/safetensors.hpp"  // TensorDType

namespace promptlens {

// A storage as the pickle names it: data lives elsewhere (zip entry data/<key>, or the legacy
// file's storage records).
struct PickledStorage {
    std::string key;
    TensorDType dtype = TensorDType::F32;
    std::string type_name;  // "FloatStorage"
    std::string location;   // "cpu", "cuda:0"
    uint64_t numel = 0;     // elements in the whole storage
};

// A tensor as _rebuild_tensor(_v2) describes it: a view of a storage.
struct PickledTensor {
    PickledStorage storage;
    uint64_t offset = 0;  // in elements
    std::vector<uint64_t> shape;
    std::vector<uint64_t> stride;  // in elements
    bool requires_grad = false;
    bool parameter = false;  // wrapped by _rebuild_parameter
};

struct PyValue;
using PyPtr = std::shared_ptr<PyValue>;

struct PyValue {
    enum class Kind {
        None,
        Bool,
        Int,
        BigInt,
        Float,
        String,
        Bytes,
        Tuple,
        List,
        Dict,
        Global,
        Storage,
        Tensor
    };
    Kind kind = Kind::None;
    bool b = false;
    int64_t i = 0;
    double f = 0;
    std::string s;                              // String, Bytes, BigInt (little-endian bytes),
                                                // Global ("module.name")
    std::vector<PyPtr> items;                   // Tuple, List
    std::vector<std::pair<PyPtr, PyPtr>> dict;  // Dict, in insertion order
    PickledStorage storage;
    PickledTensor tensor;

    const char* kind_name() const;
};

struct UnpickleResult {
    PyPtr value;
    size_t consumed = 0;  // bytes up to and including STOP (the legacy format chains pickles)
};

// Unpickles one object from `bytes`; `source` names the file (and entry) in error messages.
UnpickleResult unpickle(std::span<const std::byte> bytes, const std::string& source);

}  // namespace promptlens
