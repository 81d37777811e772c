// IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed: unsigned-byte images
// as an N × (rows·cols) float32 matrix of pixel values 0..255, and labels as integers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/matrix.hpp"

namespace promptlens {

Matrix read_idx_images(const std::filesystem::path& path);
std::vector<int32_t> read_idx_labels(const std::filesystem::path& path);

}  // namespace promptlens
