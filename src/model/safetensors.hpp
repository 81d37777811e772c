// Reader (and a small writer) for the safetensors format: an 8-byte little-endian header length,
// a JSON header mapping tensor names to {dtype, shape, data_offsets}, then the raw bytes. The file
// is memory-mapped, never copied: a float32 tensor whose bytes are 4-byte aligned is handed out as
// a span into the mapping; float16 and bfloat16 (and unaligned float32) tensors are converted to
// float when read. The header is checked against the file before anything is trusted: a length that
// runs past the end, offsets outside the data or overlapping each other, a byte count that does not
// match dtype × shape — each is an Error naming the file and the tensor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/mapped_file.hpp"

namespace promptlens {

enum class TensorDType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };
const char* tensor_dtype_name(TensorDType t);
size_t tensor_dtype_size(TensorDType t);

struct TensorInfo {
    std::string name;
    TensorDType dtype = TensorDType::F32;
    std::vector<size_t> shape;
    size_t offset = 0;  // bytes from the start of the data section
    size_t nbytes = 0;
    size_t count() const;  // number of elements (1 for a 0-d tensor)
};

// "[50257, 768]"
std::string shape_string(std::span<const size_t> shape);

// IEEE half and bfloat16 bit patterns to float (exact: every value is representable).
float half_to_float(uint16_t h);
float bf16_to_float(uint16_t b);

class SafetensorsFile {
  public:
    // Maps the file and validates its header; throws Error naming the file on any problem.
    explicit SafetensorsFile(const std::filesystem::path& path);
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;

    const std::filesystem::path& path() const { return path_; }
    const std::vector<TensorInfo>& tensors() const { return tensors_; }  // sorted by name
    const std::map<std::string, std::string>& metadata() const { return metadata_; }

    const TensorInfo* find(const std::string& name) const;  // nullptr when absent
    const TensorInfo& get(const std::string& name) const;   // throws naming file and tensor

    // The tensor's raw bytes inside the mapping.
    std::span<const std::byte> bytes(const TensorInfo& t) const;
    // A zero-copy view when the tensor is F32 and 4-byte aligned in memory; nullopt otherwise.
    std::optional<std::span<const float>> f32_view(const TensorInfo& t) const;
    // Converts any floating tensor (F32, F16, BF16, F64) into out (out.size() == t.count()).
    void read_f32(const TensorInfo& t, std::span<float> out) const;
    std::vector<float> read_f32(const TensorInfo& t) const;

  private:
    std::filesystem::path path_;
    MappedFile map_;
    const std::byte* data_ = nullptr;  // start of the data section
    size_t data_size_ = 0;
    std::vector<TensorInfo> tensors_;
    std::map<std::string, size_t> index_;
    std::map<std::string, std::string> metadata_;
};

// Writes a safetensors file (tests, converted checkpoints, saved soft prompts). Tensors are stored
// in the given order, the header padded with spaces so the data section starts 8-byte aligned.
struct TensorToWrite {
    std::string name;
    TensorDType dtype = TensorDType::F32;
    std::vector<size_t> shape;
    std::span<const std::byte> data;  // exactly count(shape) * dtype size bytes
};
void write_safetensors(const std::filesystem::path& path, std::span<const TensorToWrite> tensors,
                       const std::map<std::string, std::string>& metadata = {});

// float → bfloat16 (round to nearest even) and float → half (round to nearest even), for writing.
uint16_t float_to_bf16(float f);
uint16_t float_to_half(float f);

}  // namespace promptlens
