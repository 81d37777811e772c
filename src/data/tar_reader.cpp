#include "data/tar_reader.hpp"

#include <zlib.h>

#include <array>
#include <cstring>
#include <memory>

#include "core/error.hpp"

namespace promptlens {
namespace {

struct GzCloser {
    void operator()(gzFile f) const { gzclose(f); }
};

class Stream {
  public:
    explicit Stream(const std::filesystem::path& path) : path_(path) {
        file_.reset(gzopen(path.c_str(), "rb"));
        require(file_ != nullptr, "{}: cannot open it", path.string());
        gzbuffer(file_.get(), 1 << 18);
    }
    // Reads exactly `n` bytes, or returns false at a clean end of stream before any byte.
    bool read(void* dst, size_t n) {
        size_t got = 0;
        while (got < n) {
            const unsigned ask = static_cast<unsigned>(std::min<size_t>(n - got, 1u << 30));
            const int r = gzread(file_.get(), static_cast<char*>(dst) + got, ask);
            if (r < 0) {
                int code = 0;
                const char* msg = gzerror(file_.get(), &code);
                fail("{}: corrupt archive at byte {} of its tar stream: {}", path_.string(),
                     offset_ + got, msg);
            }
            if (r == 0) break;
            got += static_cast<size_t>(r);
        }
        offset_ += got;
        if (got == 0) return false;
        require(got == n, "{}: truncated archive: it ends at byte {} of its tar stream",
                path_.string(), offset_);
        return true;
    }
    void skip(size_t n) {
        std::array<char, 65536> buf;
        while (n > 0) {
            const size_t k = std::min(n, buf.size());
            require(read(buf.data(), k), "{}: truncated archive: it ends at byte {}",
                    path_.string(), offset_);
            n -= k;
        }
    }
    size_t offset() const { return offset_; }

  private:
    std::filesystem::path path_;
    std::unique_ptr<gzFile_s, GzCloser> file_;
    size_t offset_ = 0;
};

// A numeric header field: octal text (NUL/space terminated) or GNU base-256 (high bit set).
size_t parse_number(const char* p, size_t n, const std::filesystem::path& archive, size_t at) {
    if (static_cast<unsigned char>(p[0]) & 0x80) {
        size_t v = static_cast<unsigned char>(p[0]) & 0x7f;
        for (size_t i = 1; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
        return v;
    }
    size_t v = 0, i = 0;
    while (i < n && p[i] == ' ') ++i;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i) v = v * 8 + static_cast<size_t>(p[i] - '0');
    require(i == n || p[i] == '\0' || p[i] == ' ',
            "{}: not a tar archive, or corrupt: bad number in the header at byte {}",
            archive.string(), at);
    return v;
}

std::string field(const char* p, size_t n) {
    return std::string(p, strnlen(p, n));
}

// The "path" record of a pax extended header ("<len> path=<value>\n" records).
std::string pax_path(const std::string& data) {
    size_t pos = 0;
    std::string path;
    while (pos < data.size()) {
        const size_t space = data.find(' ', pos);
        if (space == std::string::npos) break;
        const size_t len = std::strtoul(data.c_str() + pos, nullptr, 10);
        if (len == 0 || pos + len > data.size()) break;
        const std::string rec = data.substr(space + 1, pos + len - space - 2);  // without '\n'
        if (rec.rfind("path=", 0) == 0) path = rec.substr(5);
        pos += len;
    }
    return path;
}

}  // namespace

void read_tar_files(const std::filesystem::path& archive,
                    const std::function<bool(const std::string& path)>& want,
                    const std::function<void(const std::string& path, std::string content)>& take) {
    Stream in(archive);
    std::array<char, 512> h;
    std::string long_name;  // from a preceding GNU 'L' or pax 'x' entry
    bool any = false;
    for (;;) {
        const size_t at = in.offset();
        if (!in.read(h.data(), h.size())) {
            require(any, "{}: not a tar archive (it is empty)", archive.string());
            return;  // ended without the two zero blocks: accepted, as GNU tar does
        }
        if (std::all_of(h.begin(), h.end(), [](char c) { return c == 0; })) return;
        // Checksum: the header's bytes summed with the checksum field taken as spaces.
        unsigned sum = 0;
        for (size_t i = 0; i < 512; ++i) {
            sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
        }
        require(parse_number(&h[148], 8, archive, at) == sum,
                "{}: not a tar archive, or corrupt: bad header checksum at byte {}",
                archive.string(), at);
        any = true;
        const size_t size = parse_number(&h[124], 12, archive, at);
        const char type = h[156];
        const size_t padded = (size + 511) / 512 * 512;
        if (type == 'L' || type == 'x') {
            std::string data(size, '\0');
            require(in.read(data.data(), size) || size == 0, "{}: truncated archive",
                    archive.string());
            in.skip(padded - size);
            long_name = type == 'L' ? field(data.data(), data.size()) : pax_path(data);
            continue;
        }
        std::string name;
        if (!long_name.empty()) {
            name = std::move(long_name);
            long_name.clear();
        } else {
            name = field(&h[0], 100);
            if (std::memcmp(&h[257], "ustar", 5) == 0 && h[345] != '\0') {
                name = field(&h[345], 155) + "/" + name;
            }
        }
        while (name.rfind("./", 0) == 0) name.erase(0, 2);
        const bool regular = type == '0' || type == '\0' || type == '7';
        if (regular && want(name)) {
            std::string content(size, '\0');
            if (size > 0) {
                require(in.read(content.data(), size), "{}: truncated archive: {} ends early",
                        archive.string(), name);
            }
            in.skip(padded - size);
            take(name, std::move(content));
        } else {
            in.skip(padded);
        }
    }
}

}  // namespace promptlens
