// Golden-data helpers shared by the GPT-2 tests: the tiny model and prompt of tests/data/gpt2-tiny
// (see its README) and any of its .npy files as doubles, with small comparison helpers.
#pragma once

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/npy.hpp"
#include "model/gpt2_weights.hpp"
#include "test_helpers.hpp"

namespace promptlens::test::gpt2 {

// Any .npy (N-D, f32/f64/i32/i64) as doubles in C order, with its shape.
struct Array {
    std::vector<size_t> shape;
    std::vector<double> v;
};
inline Array load(const std::string& rel) {
    const auto path = test::data_path("gpt2-tiny/" + rel);
    const NpyHeader h = read_npy_header(path);
    std::ifstream in(path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(h.data_offset));
    std::vector<char> raw(h.count() * dtype_size(h.dtype));
    in.read(raw.data(), static_cast<std::streamsize>(raw.size()));
    Array a{h.shape, std::vector<double>(h.count())};
    for (size_t i = 0; i < h.count(); ++i) {
        const char* p = raw.data() + i * dtype_size(h.dtype);
        switch (h.dtype) {
            case DType::f32: {
                float x;
                std::memcpy(&x, p, 4);
                a.v[i] = x;
                break;
            }
            case DType::f64: {
                double x;
                std::memcpy(&x, p, 8);
                a.v[i] = x;
                break;
            }
            case DType::i32: {
                int32_t x;
                std::memcpy(&x, p, 4);
                a.v[i] = x;
                break;
            }
            case DType::i64: {
                int64_t x;
                std::memcpy(&x, p, 8);
                a.v[i] = double(x);
                break;
            }
        }
    }
    return a;
}
inline std::vector<double> slice(const Array& a, size_t begin, size_t n) {
    return {a.v.begin() + long(begin), a.v.begin() + long(begin + n)};
}
template <class V>
inline std::vector<double> to_double(const V& v) {
    return {v.begin(), v.end()};
}
inline double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
    double m = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

inline const Gpt2Weights& tiny() {
    static const Gpt2Weights w = load_gpt2_model(test::data_path("gpt2-tiny"));
    return w;
}
inline Matrix prompt() {  // [1, P, C] → P×C
    Array a = load("prompt.npy");
    Matrix m(a.shape[1], a.shape[2]);
    for (size_t i = 0; i < m.size(); ++i) m.data()[i] = float(a.v[i]);
    return m;
}
inline std::vector<int32_t> row_ids(const Array& ids, size_t r, size_t n) {
    std::vector<int32_t> out;
    for (size_t j = 0; j < n; ++j) out.push_back(int32_t(ids.v[r * ids.shape[1] + j]));
    return out;
}
inline size_t row_length(const Array& mask, size_t r) {
    size_t n = 0;
    for (size_t j = 0; j < mask.shape[1]; ++j) n += mask.v[r * mask.shape[1] + j] != 0;
    return n;
}

}  // namespace promptlens::test::gpt2
