#include "data/idx.hpp"

#include <zlib.h>

#include <string>

#include "core/error.hpp"

namespace promptlens {
namespace {

// Whole file, decompressed when it is gzip (zlib reads plain files transparently).
std::vector<unsigned char> read_all(const std::filesystem::path& path) {
    std::error_code ec;
    require(std::filesystem::exists(path, ec), "{}: no such file", path.string());
    gzFile f = gzopen(path.c_str(), "rb");
    require(f != nullptr, "{}: cannot open", path.string());
    std::vector<unsigned char> out;
    unsigned char buf[1 << 16];
    int n = 0;
    while ((n = gzread(f, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
    int err = 0;
    const char* msg = gzerror(f, &err);
    std::string message = msg ? msg : "";
    gzclose(f);
    require(n == 0 && err == Z_OK, "{}: read failed: {}", path.string(), message);
    return out;
}

uint32_t be32(const unsigned char* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Checks the magic (0x0000 08 nd) and returns the dimensions.
std::vector<uint32_t> header(const std::vector<unsigned char>& b, int ndim,
                             const std::filesystem::path& path) {
    require(b.size() >= 4 + 4 * static_cast<size_t>(ndim), "{}: too short for an IDX file",
            path.string());
    require(b[0] == 0 && b[1] == 0 && b[2] == 0x08 && b[3] == ndim,
            "{}: not an unsigned-byte IDX file with {} dimensions", path.string(), ndim);
    std::vector<uint32_t> dims(static_cast<size_t>(ndim));
    size_t count = 1;
    for (int i = 0; i < ndim; ++i) {
        dims[static_cast<size_t>(i)] = be32(&b[4 + 4 * static_cast<size_t>(i)]);
        count *= dims[static_cast<size_t>(i)];
    }
    size_t offset = 4 + 4 * static_cast<size_t>(ndim);
    require(b.size() == offset + count, "{}: IDX header announces {} values but the file has {}",
            path.string(), count, b.size() - offset);
    return dims;
}

}  // namespace

Matrix read_idx_images(const std::filesystem::path& path) {
    auto bytes = read_all(path);
    auto dims = header(bytes, 3, path);
    Matrix m(dims[0], size_t{dims[1]} * dims[2]);
    const unsigned char* p = bytes.data() + 16;
    for (size_t i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(p[i]);
    return m;
}

std::vector<int32_t> read_idx_labels(const std::filesystem::path& path) {
    auto bytes = read_all(path);
    auto dims = header(bytes, 1, path);
    std::vector<int32_t> out(dims[0]);
    for (size_t i = 0; i < out.size(); ++i) out[i] = bytes[8 + i];
    return out;
}

}  // namespace promptlens
