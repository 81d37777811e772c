// NumPy `.npy` files (format versions 1.0, 2.0 and 3.0): little-endian, C-order arrays of
// float32, float64, int32 or int64. Anything else — big-endian, Fortran order, another dtype, a
// header whose shape does not match the file's size — is refused with a message naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/matrix.hpp"

namespace promptlens {

enum class DType { f32, f64, i32, i64 };
const char* dtype_name(DType t);
size_t dtype_size(DType t);

struct NpyHeader {
    DType dtype = DType::f32;
    std::vector<size_t> shape;
    size_t data_offset = 0;  // bytes from the start of the file to the first element
    size_t count() const;    // number of elements (1 for a 0-d array)
};

// Parses and validates the header, including that the file holds exactly the data it announces.
NpyHeader read_npy_header(const std::filesystem::path& path);

// A 1-D (N → N×1) or 2-D array of any supported dtype, converted to float32. Values that do not
// fit in float32 are reported, not silently turned into infinities.
Matrix read_npy_matrix(const std::filesystem::path& path);

// A 1-D integer array (int32 or int64; float arrays only when every value is integral).
std::vector<int64_t> read_npy_ints(const std::filesystem::path& path);

// Writers, atomic (temporary name, then rename).
void write_npy(const std::filesystem::path& path, ConstMatView m);
void write_npy(const std::filesystem::path& path, std::span<const float> v);    // 1-D
void write_npy(const std::filesystem::path& path, std::span<const int32_t> v);  // 1-D
void write_npy(const std::filesystem::path& path, std::span<const int64_t> v);  // 1-D

}  // namespace promptlens
