#include "model/soft_prompt.hpp"

#include <cstring>
#include <fstream>
#include <vector>

#include "core/error.hpp"
#include "core/npy.hpp"
#include "model/safetensors.hpp"
#include "model/torch_file.hpp"

namespace promptlens {
namespace {

// [1, P, C] or [P, C] → P×C matrix from `values` (row-major).
Matrix to_prompt(const std::string& file, const std::vector<size_t>& shape,
                 std::span<const float> values, size_t n_embd) {
    const bool ok = (shape.size() == 2) || (shape.size() == 3 && shape[0] == 1);
    require(ok, "{}: soft prompt has shape {}; expected [1, P, C] or [P, C]", file,
            shape_string(shape));
    const size_t P = shape[shape.size() - 2], C = shape.back();
    require(C == n_embd, "{}: soft prompt width {} (shape {}) does not match the model's n_embd {}",
            file, C, shape_string(shape), n_embd);
    require(P >= 1, "{}: soft prompt has no rows (shape {})", file, shape_string(shape));
    require(values.size() == P * C, "{}: soft prompt holds {} values for shape {}", file,
            values.size(), shape_string(shape));
    Matrix m(P, C);
    std::memcpy(m.data(), values.data(), P * C * sizeof(float));
    return m;
}

Matrix from_npy(const std::filesystem::path& path, size_t n_embd) {
    const auto h = read_npy_header(path);
    require(h.dtype == DType::f32 || h.dtype == DType::f64,
            "{}: soft prompt has dtype {}; expected float32 or float64", path.string(),
            dtype_name(h.dtype));
    std::ifstream in(path, std::ios::binary);
    in.seekg(std::streamoff(h.data_offset));
    const size_t n = h.count();
    std::vector<float> v(n);
    if (h.dtype == DType::f32) {
        in.read(reinterpret_cast<char*>(v.data()), std::streamsize(n * 4));
    } else {
        std::vector<double> d(n);
        in.read(reinterpret_cast<char*>(d.data()), std::streamsize(n * 8));
        for (size_t i = 0; i < n; ++i) v[i] = float(d[i]);
    }
    require(bool(in), "{}: read error", path.string());
    return to_prompt(path.string(), h.shape, v, n_embd);
}

std::string names_of(const std::vector<std::string>& names) {
    std::string s;
    for (size_t i = 0; i < names.size() && i < 8; ++i) s += (i ? ", \"" : "\"") + names[i] + "\"";
    if (names.size() > 8) s += ", …";
    return s;
}

}  // namespace

Matrix load_soft_prompt(const std::filesystem::path& path, size_t n_embd,
                        const std::string& tensor_name) {
    const std::string file = path.string();
    const std::string ext = path.extension().string();
    if (ext == ".npy") return from_npy(path, n_embd);
    if (ext == ".safetensors") {
        SafetensorsFile st(path);
        const TensorInfo* t = nullptr;
        if (!tensor_name.empty()) {
            t = &st.get(tensor_name);
        } else {
            std::vector<std::string> names;
            for (const auto& x : st.tensors()) names.push_back(x.name);
            require(names.size() == 1, "{}: {} tensors ({}); name the soft prompt tensor to use",
                    file, names.size(), names_of(names));
            t = &st.tensors().front();
        }
        return to_prompt(file + " (\"" + t->name + "\")", t->shape, st.read_f32(*t), n_embd);
    }
    require(ext == ".pt" || ext == ".pth" || ext == ".bin",
            "{}: unknown soft prompt file type \"{}\" (expected .npy, .safetensors, .pt, .pth or "
            ".bin)",
            file, ext);
    const TorchFile tf = load_torch_file(path);
    const TorchTensor* t = nullptr;
    if (!tensor_name.empty()) {
        t = &tf.get(tensor_name);
    } else {
        std::vector<std::string> names;
        for (const auto& x : tf.tensors) names.push_back(x.name);
        require(tf.tensors.size() == 1, "{}: {} tensors ({}); name the soft prompt tensor to use",
                file, names.size(), names_of(names));
        t = &tf.tensors.front();
    }
    require(t->is_floating(), "{}: soft prompt tensor has dtype {}; expected a floating tensor",
            file, tensor_dtype_name(t->dtype));
    return to_prompt(file, t->shape, t->f32(), n_embd);
}

}  // namespace promptlens
