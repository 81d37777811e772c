// A 2-D float32 `.npy` file written row by row, in any order, straight to disk: the header with
// the final shape comes first, each row is written at its own offset (`pwrite`), and the file
// lives under a temporary name (`<path>.partial`) until `commit()` renames it into place. This is
// how `promptlens extract` streams outputs far larger than memory (25,000 × 50,257 logits are 5 GB)
// and how it resumes: the temporary name is fixed, so a rerun can `open_existing()` the partial
// file, check its header, and fill in the rows that are missing.
// The bytes are exactly those of numpy's `np.save` (format 1.0, '<f4', C order), so a file is the
// same whatever order its rows were written in.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>

namespace promptlens {

class NpyRowWriter {
  public:
    // Creates (truncating) `<path>.partial` sized for rows×cols float32, zero-filled (sparse).
    static NpyRowWriter create(const std::filesystem::path& path, size_t rows, size_t cols);
    // Reopens an existing `<path>.partial`; its header and size must say rows×cols float32.
    static NpyRowWriter open_existing(const std::filesystem::path& path, size_t rows, size_t cols);

    NpyRowWriter(NpyRowWriter&& other) noexcept;
    NpyRowWriter& operator=(NpyRowWriter&& other) noexcept;
    NpyRowWriter(const NpyRowWriter&) = delete;
    NpyRowWriter& operator=(const NpyRowWriter&) = delete;
    ~NpyRowWriter();  // closes; the partial file stays on disk (resume) unless committed

    // Writes row `row` (cols floats). Thread-safe for distinct rows.
    void write_row(size_t row, std::span<const float> values);
    // Flushes the written rows to stable storage (fdatasync).
    void sync();
    // Syncs, closes and renames `<path>.partial` onto `path`.
    void commit();

    size_t rows() const { return rows_; }
    size_t cols() const { return cols_; }
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path partial_path() const { return partial_name(path_); }
    static std::filesystem::path partial_name(const std::filesystem::path& path);

    // The exact header numpy writes for a rows×cols '<f4' array (magic, version 1.0, padded dict).
    static std::string header(size_t rows, size_t cols);

  private:
    NpyRowWriter() = default;
    std::filesystem::path path_;
    size_t rows_ = 0, cols_ = 0, data_offset_ = 0;
    int fd_ = -1;
};

}  // namespace promptlens
