// Output files that are never seen half-written: data goes to a temporary name beside the target
// (`<path>.tmp.<pid>`), is flushed to disk, and is renamed over the target only on `commit()`.
// An AtomicFile destroyed without commit (an exception, Ctrl-C unwinding) removes its temporary.
#pragma once

#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace promptlens {

class AtomicFile {
  public:
    explicit AtomicFile(std::filesystem::path target);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    void write(const void* data, size_t bytes);
    void write(std::string_view text) { write(text.data(), text.size()); }
    // Flushes, syncs and renames the temporary onto the target.
    void commit();

    const std::filesystem::path& target() const { return target_; }

  private:
    std::filesystem::path target_, temp_;
    std::FILE* file_ = nullptr;
};

// Writes a whole text file atomically.
void write_text_file(const std::filesystem::path& path, std::string_view text);

}  // namespace promptlens
