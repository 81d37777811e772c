#include "core/npy_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/error.hpp"

namespace promptlens {

std::filesystem::path NpyRowWriter::partial_name(const std::filesystem::path& path) {
    auto p = path;
    p += ".partial";
    return p;
}

std::string NpyRowWriter::header(size_t rows, size_t cols) {
    std::string dict =
        fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", rows, cols);
    // Pad with spaces so magic + length + dict + '\n' is a multiple of 64 bytes (as numpy does).
    const size_t total = 10 + dict.size() + 1;
    dict.append((64 - total % 64) % 64, ' ');
    dict.push_back('\n');
    std::string out = "\x93NUMPY";
    out.push_back('\x01');
    out.push_back('\x00');
    out.push_back(static_cast<char>(dict.size() & 0xff));
    out.push_back(static_cast<char>(dict.size() >> 8));
    return out + dict;
}

namespace {

void pwrite_all(int fd, const void* data, size_t bytes, size_t offset,
                const std::filesystem::path& path) {
    const char* p = static_cast<const char*>(data);
    while (bytes > 0) {
        const ssize_t n = ::pwrite(fd, p, bytes, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        require(n > 0, "{}: write failed at byte {}: {}", path.string(), offset,
                std::strerror(errno));
        p += n;
        bytes -= static_cast<size_t>(n);
        offset += static_cast<size_t>(n);
    }
}

}  // namespace

NpyRowWriter NpyRowWriter::create(const std::filesystem::path& path, size_t rows, size_t cols) {
    NpyRowWriter w;
    w.path_ = path;
    w.rows_ = rows;
    w.cols_ = cols;
    const auto partial = partial_name(path);
    const std::string head = header(rows, cols);
    w.data_offset_ = head.size();
    w.fd_ = ::open(partial.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    require(w.fd_ >= 0, "{}: cannot create it: {}", partial.string(), std::strerror(errno));
    pwrite_all(w.fd_, head.data(), head.size(), 0, partial);
    const size_t size = head.size() + rows * cols * sizeof(float);
    require(::ftruncate(w.fd_, static_cast<off_t>(size)) == 0, "{}: cannot size it to {} bytes: {}",
            partial.string(), size, std::strerror(errno));
    return w;
}

NpyRowWriter NpyRowWriter::open_existing(const std::filesystem::path& path, size_t rows,
                                         size_t cols) {
    NpyRowWriter w;
    w.path_ = path;
    w.rows_ = rows;
    w.cols_ = cols;
    const auto partial = partial_name(path);
    const std::string head = header(rows, cols);
    w.data_offset_ = head.size();
    w.fd_ = ::open(partial.c_str(), O_RDWR | O_CLOEXEC);
    require(w.fd_ >= 0, "{}: cannot reopen it to resume: {}", partial.string(),
            std::strerror(errno));
    struct stat st {};
    require(::fstat(w.fd_, &st) == 0, "{}: cannot stat it: {}", partial.string(),
            std::strerror(errno));
    const size_t size = head.size() + rows * cols * sizeof(float);
    require(static_cast<size_t>(st.st_size) == size,
            "{}: has {} bytes but a {}×{} float32 array needs {}; cannot resume into it",
            partial.string(), st.st_size, rows, cols, size);
    std::string got(head.size(), '\0');
    require(::pread(w.fd_, got.data(), got.size(), 0) == static_cast<ssize_t>(got.size()) &&
                got == head,
            "{}: its header is not that of a {}×{} float32 array; cannot resume into it",
            partial.string(), rows, cols);
    return w;
}

NpyRowWriter::NpyRowWriter(NpyRowWriter&& o) noexcept
    : path_(std::move(o.path_)),
      rows_(o.rows_),
      cols_(o.cols_),
      data_offset_(o.data_offset_),
      fd_(o.fd_) {
    o.fd_ = -1;
}

NpyRowWriter& NpyRowWriter::operator=(NpyRowWriter&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        path_ = std::move(o.path_);
        rows_ = o.rows_;
        cols_ = o.cols_;
        data_offset_ = o.data_offset_;
        fd_ = o.fd_;
        o.fd_ = -1;
    }
    return *this;
}

NpyRowWriter::~NpyRowWriter() {
    if (fd_ >= 0) ::close(fd_);
}

void NpyRowWriter::write_row(size_t row, std::span<const float> values) {
    require(fd_ >= 0, "{}: write after commit", path_.string());
    require(row < rows_ && values.size() == cols_,
            "{}: row {} with {} values does not fit a {}×{} array", path_.string(), row,
            values.size(), rows_, cols_);
    pwrite_all(fd_, values.data(), values.size_bytes(), data_offset_ + row * cols_ * sizeof(float),
               partial_name(path_));
}

void NpyRowWriter::sync() {
    require(fd_ >= 0, "{}: sync after commit", path_.string());
    require(::fdatasync(fd_) == 0, "{}: sync failed: {}", partial_name(path_).string(),
            std::strerror(errno));
}

void NpyRowWriter::commit() {
    sync();
    const int fd = fd_;
    fd_ = -1;
    require(::close(fd) == 0, "{}: close failed: {}", partial_name(path_).string(),
            std::strerror(errno));
    std::error_code ec;
    std::filesystem::rename(partial_name(path_), path_, ec);
    require(!ec, "{}: cannot rename into place: {}", path_.string(), ec.message());
}

}  // namespace promptlens
