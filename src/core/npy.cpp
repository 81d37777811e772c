#include "core/npy.hpp"

#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <fstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace promptlens {
namespace fs = std::filesystem;

const char* dtype_name(DType t) {
    switch (t) {
        case DType::f32:
            return "float32";
        case DType::f64:
            return "float64";
        case DType::i32:
            return "int32";
        case DType::i64:
            return "int64";
    }
    return "?";
}

size_t dtype_size(DType t) {
    return (t == DType::f32 || t == DType::i32) ? 4 : 8;
}

size_t NpyHeader::count() const {
    size_t n = 1;
    for (size_t d : shape) n *= d;
    return n;
}

namespace {

// A minimal reader for the Python dict literal in an .npy header.
class HeaderParser {
  public:
    HeaderParser(std::string_view text, const fs::path& path) : s_(text), path_(path) {}

    NpyHeader parse() {
        NpyHeader h;
        bool have_descr = false, have_order = false, have_shape = false;
        expect('{');
        while (true) {
            skip_space();
            if (peek() == '}') break;
            std::string key = string_literal();
            expect(':');
            skip_space();
            if (key == "descr") {
                h.dtype = parse_descr(string_literal());
                have_descr = true;
            } else if (key == "fortran_order") {
                if (s_.substr(pos_, 4) == "True") {
                    fail(
                        "{}: array is in Fortran (column-major) order; save it with "
                        "np.ascontiguousarray first",
                        path_.string());
                }
                require(s_.substr(pos_, 5) == "False",
                        "{}: bad .npy header: fortran_order must "
                        "be True or False",
                        path_.string());
                pos_ += 5;
                have_order = true;
            } else if (key == "shape") {
                h.shape = tuple();
                have_shape = true;
            } else {
                fail("{}: bad .npy header: unexpected key '{}'", path_.string(), key);
            }
            skip_space();
            if (peek() == ',') ++pos_;
        }
        require(have_descr && have_order && have_shape,
                "{}: bad .npy header: it must have 'descr', 'fortran_order' and 'shape'",
                path_.string());
        return h;
    }

  private:
    char peek() {
        require(pos_ < s_.size(), "{}: bad .npy header: ends early", path_.string());
        return s_[pos_];
    }
    void skip_space() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n')) ++pos_;
    }
    void expect(char c) {
        skip_space();
        require(peek() == c, "{}: bad .npy header: expected '{}' at offset {}", path_.string(), c,
                pos_);
        ++pos_;
    }
    std::string string_literal() {
        skip_space();
        char q = peek();
        require(q == '\'' || q == '"',
                "{}: bad .npy header: expected a quoted string at "
                "offset {}",
                path_.string(), pos_);
        size_t end = s_.find(q, pos_ + 1);
        require(end != std::string_view::npos, "{}: bad .npy header: unterminated string",
                path_.string());
        std::string out(s_.substr(pos_ + 1, end - pos_ - 1));
        pos_ = end + 1;
        return out;
    }
    std::vector<size_t> tuple() {
        expect('(');
        std::vector<size_t> dims;
        while (true) {
            skip_space();
            if (peek() == ')') {
                ++pos_;
                return dims;
            }
            size_t value = 0;
            size_t digits = 0;
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
                require(value < (size_t{1} << 50), "{}: bad .npy header: dimension too large",
                        path_.string());
                value = value * 10 + static_cast<size_t>(s_[pos_++] - '0');
                ++digits;
            }
            require(digits > 0, "{}: bad .npy header: expected a dimension at offset {}",
                    path_.string(), pos_);
            dims.push_back(value);
            skip_space();
            if (peek() == ',') ++pos_;
        }
    }
    DType parse_descr(const std::string& d) {
        if (d == "<f4") return DType::f32;
        if (d == "<f8") return DType::f64;
        if (d == "<i4") return DType::i32;
        if (d == "<i8") return DType::i64;
        if (d.size() == 3 && d[0] == '>') {
            fail(
                "{}: dtype '{}' is big-endian; promptlens reads little-endian float32, "
                "float64, int32 or int64 (use arr.astype('<f4'))",
                path_.string(), d);
        }
        fail(
            "{}: unsupported dtype '{}'; expected float32, float64, int32 or int64 "
            "('<f4', '<f8', '<i4', '<i8')",
            path_.string(), d);
    }

    std::string_view s_;
    const fs::path& path_;
    size_t pos_ = 0;
};

std::string shape_string(const std::vector<size_t>& shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
}

std::ifstream open_input(const fs::path& path) {
    std::error_code ec;
    require(fs::exists(path, ec), "{}: no such file", path.string());
    require(!fs::is_directory(path, ec), "{}: is a directory, expected a .npy file", path.string());
    std::ifstream in(path, std::ios::binary);
    require(in.good(), "{}: cannot open: {}", path.string(), std::strerror(errno));
    return in;
}

void read_exact(std::ifstream& in, void* dst, size_t bytes, const fs::path& path) {
    in.read(static_cast<char*>(dst), static_cast<std::streamsize>(bytes));
    require(static_cast<size_t>(in.gcount()) == bytes, "{}: read failed (file truncated?)",
            path.string());
}

}  // namespace

NpyHeader read_npy_header(const fs::path& path) {
    auto in = open_input(path);
    const size_t file_size = fs::file_size(path);
    require(file_size > 0, "{}: empty file, expected a .npy array", path.string());
    unsigned char pre[10] = {};
    in.read(reinterpret_cast<char*>(pre), 10);
    require(in.gcount() == 10 && std::memcmp(pre, "\x93NUMPY", 6) == 0,
            "{}: not a .npy file (no \\x93NUMPY magic)", path.string());
    const int major = pre[6];
    size_t header_len = 0, prefix = 0;
    if (major == 1) {
        header_len = pre[8] | (size_t{pre[9]} << 8);
        prefix = 10;
    } else if (major == 2 || major == 3) {
        unsigned char extra[2] = {};
        in.read(reinterpret_cast<char*>(extra), 2);
        require(in.gcount() == 2, "{}: truncated .npy header", path.string());
        header_len =
            pre[8] | (size_t{pre[9]} << 8) | (size_t{extra[0]} << 16) | (size_t{extra[1]} << 24);
        prefix = 12;
    } else {
        fail("{}: unsupported .npy format version {}.{}", path.string(), major, int(pre[7]));
    }
    require(prefix + header_len <= file_size,
            "{}: truncated .npy header: it announces {} bytes but the file has {}", path.string(),
            prefix + header_len, file_size);
    std::string text(header_len, '\0');
    read_exact(in, text.data(), header_len, path);
    NpyHeader h = HeaderParser(text, path).parse();
    h.data_offset = prefix + header_len;
    const size_t expected = h.count() * dtype_size(h.dtype);
    const size_t actual = file_size - h.data_offset;
    if (actual < expected) {
        fail("{}: truncated: shape {} of {} needs {} data bytes but the file has {}", path.string(),
             shape_string(h.shape), dtype_name(h.dtype), expected, actual);
    }
    if (actual > expected) {
        fail("{}: header says shape {} of {} ({} bytes) but the file has {} data bytes",
             path.string(), shape_string(h.shape), dtype_name(h.dtype), expected, actual);
    }
    return h;
}

Matrix read_npy_matrix(const fs::path& path) {
    NpyHeader h = read_npy_header(path);
    require(h.shape.size() == 1 || h.shape.size() == 2,
            "{}: expected a 1-D or 2-D array, got shape {}", path.string(), shape_string(h.shape));
    const size_t rows = h.shape[0];
    const size_t cols = h.shape.size() == 2 ? h.shape[1] : 1;
    auto in = open_input(path);
    in.seekg(static_cast<std::streamoff>(h.data_offset));
    Matrix m(rows, cols);
    const size_t n = rows * cols;
    if (h.dtype == DType::f32) {
        read_exact(in, m.data(), n * 4, path);
        return m;
    }
    // Convert in blocks to bound the extra memory.
    constexpr size_t kBlock = 1 << 16;
    std::vector<char> buf(kBlock * 8);
    for (size_t start = 0; start < n; start += kBlock) {
        size_t count = std::min(kBlock, n - start);
        read_exact(in, buf.data(), count * dtype_size(h.dtype), path);
        for (size_t k = 0; k < count; ++k) {
            double v = 0;
            switch (h.dtype) {
                case DType::f64:
                    std::memcpy(&v, buf.data() + 8 * k, 8);
                    break;
                case DType::i32: {
                    int32_t x;
                    std::memcpy(&x, buf.data() + 4 * k, 4);
                    v = x;
                    break;
                }
                case DType::i64: {
                    int64_t x;
                    std::memcpy(&x, buf.data() + 8 * k, 8);
                    v = static_cast<double>(x);
                    break;
                }
                case DType::f32:
                    break;
            }
            if (std::isfinite(v) && std::fabs(v) > FLT_MAX) {
                size_t idx = start + k;
                fail("{}: row {}, column {}: value {} does not fit in float32", path.string(),
                     idx / cols, idx % cols, v);
            }
            m.data()[start + k] = static_cast<float>(v);
        }
    }
    return m;
}

std::vector<int64_t> read_npy_ints(const fs::path& path) {
    NpyHeader h = read_npy_header(path);
    require(h.shape.size() == 1, "{}: expected a 1-D array, got shape {}", path.string(),
            shape_string(h.shape));
    if (h.dtype == DType::i64 || h.dtype == DType::i32) {
        auto in = open_input(path);
        in.seekg(static_cast<std::streamoff>(h.data_offset));
        std::vector<int64_t> out(h.count());
        if (h.dtype == DType::i64) {
            read_exact(in, out.data(), out.size() * 8, path);
        } else {
            std::vector<int32_t> tmp(out.size());
            read_exact(in, tmp.data(), tmp.size() * 4, path);
            std::copy(tmp.begin(), tmp.end(), out.begin());
        }
        return out;
    }
    Matrix m = read_npy_matrix(path);
    std::vector<int64_t> out(m.rows());
    for (size_t i = 0; i < out.size(); ++i) {
        float v = m(i, 0);
        require(std::isfinite(v) && std::floor(v) == v,
                "{}: element {}: expected an integer, got {}", path.string(), i, v);
        out[i] = static_cast<int64_t>(v);
    }
    return out;
}

namespace {

void write_array(const fs::path& path, const char* descr, const std::vector<size_t>& shape,
                 const void* rows_data, size_t row_bytes, size_t rows, size_t stride_bytes) {
    std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                   descr, shape_string(shape));
    // Pad with spaces so magic + length + dict + '\n' is a multiple of 64 bytes.
    size_t total = 10 + dict.size() + 1;
    dict.append((64 - total % 64) % 64, ' ');
    dict.push_back('\n');
    require(dict.size() < 65536, "{}: .npy header too long", path.string());
    std::string pre = "\x93NUMPY";
    pre.push_back('\x01');
    pre.push_back('\x00');
    pre.push_back(static_cast<char>(dict.size() & 0xff));
    pre.push_back(static_cast<char>(dict.size() >> 8));
    AtomicFile out(path);
    out.write(pre);
    out.write(dict);
    const char* p = static_cast<const char*>(rows_data);
    if (stride_bytes == row_bytes) {
        out.write(p, row_bytes * rows);
    } else {
        for (size_t i = 0; i < rows; ++i) out.write(p + i * stride_bytes, row_bytes);
    }
    out.commit();
}

}  // namespace

void write_npy(const fs::path& path, ConstMatView m) {
    write_array(path, "<f4", {m.rows(), m.cols()}, m.data(), m.cols() * 4, m.rows(),
                m.stride() * 4);
}
void write_npy(const fs::path& path, std::span<const float> v) {
    write_array(path, "<f4", {v.size()}, v.data(), v.size() * 4, 1, v.size() * 4);
}
void write_npy(const fs::path& path, std::span<const int32_t> v) {
    write_array(path, "<i4", {v.size()}, v.data(), v.size() * 4, 1, v.size() * 4);
}
void write_npy(const fs::path& path, std::span<const int64_t> v) {
    write_array(path, "<i8", {v.size()}, v.data(), v.size() * 8, 1, v.size() * 8);
}

}  // namespace promptlens
