// A read-only memory mapping of a whole file, unmapped when destroyed. Checkpoint readers
// (safetensors, PyTorch zip archives) hand out views into it instead of copying weights.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>

namespace promptlens {

class MappedFile {
  public:
    // `what` names the kind of file in errors ("safetensors file", "zip archive"); a file shorter
    // than `min_size` bytes is refused with `why_min` saying what those bytes are.
    MappedFile(const std::filesystem::path& path, const char* what, size_t min_size,
               const char* why_min);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::byte* data() const { return data_; }
    size_t size() const { return size_; }
    std::span<const std::byte> bytes() const { return {data_, size_}; }

  private:
    const std::byte* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace promptlens
