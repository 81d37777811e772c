#include "model/zip_reader.hpp"

#include <array>
#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace promptlens {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50,
                   kEnd64Sig = 0x06064b50, kEnd64LocatorSig = 0x07064b50;

uint64_t le(const std::byte* p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | std::to_integer<uint64_t>(p[i]);
    return v;
}

std::array<uint32_t, 256> make_crc_table() {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        t[i] = c;
    }
    return t;
}

}  // namespace

uint32_t crc32_of(std::span<const std::byte> data, uint32_t crc) {
    static const auto table = make_crc_table();
    uint32_t c = ~crc;
    for (std::byte b : data) c = table[(c ^ std::to_integer<uint32_t>(b)) & 0xffu] ^ (c >> 8);
    return ~c;
}

bool ZipReader::looks_like_zip(std::span<const std::byte> head) {
    return head.size() >= 4 && le(head.data(), 4) == kLocalSig;
}

ZipReader::ZipReader(const std::filesystem::path& path)
    : path_(path), map_(path, "zip archive", 22, "the end record alone is 22 bytes") {
    const std::string file = path.string();
    // End of central directory: the last signature within 22 + 65535 (comment) bytes.
    size_t eocd = map_.size();
    const size_t lowest = map_.size() >= 22 + 65535 ? map_.size() - 22 - 65535 : 0;
    for (size_t p = map_.size() - 22 + 1; p-- > lowest;) {
        if (le(map_.data() + p, 4) == kEndSig &&
            p + 22 + le(map_.data() + p + 20, 2) <= map_.size()) {
            eocd = p;
            break;
        }
    }
    require(eocd != map_.size(),
            "{}: no zip end-of-central-directory record (the file is truncated or not a zip "
            "archive; {} bytes)",
            file, map_.size());
    const std::byte* E = map_.data() + eocd;
    uint64_t disk = le(E + 4, 2), cd_disk = le(E + 6, 2);
    uint64_t n_entries = le(E + 10, 2), cd_size = le(E + 12, 4), cd_offset = le(E + 16, 4);
    if (n_entries == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) {
        // ZIP64: a locator sits just before the classic end record.
        require(eocd >= 20 && le(map_.data() + eocd - 20, 4) == kEnd64LocatorSig,
                "{}: the end record announces ZIP64 but there is no ZIP64 locator", file);
        uint64_t off64 = le(map_.data() + eocd - 20 + 8, 8);
        require(off64 + 56 <= eocd && le(map_.data() + off64, 4) == kEnd64Sig,
                "{}: the ZIP64 end record at offset {} is missing or outside the file", file,
                off64);
        const std::byte* Z = map_.data() + off64;
        disk = le(Z + 16, 4);
        cd_disk = le(Z + 20, 4);
        n_entries = le(Z + 32, 8);
        cd_size = le(Z + 40, 8);
        cd_offset = le(Z + 48, 8);
    }
    require(disk == 0 && cd_disk == 0, "{}: multi-disk zip archives are not supported", file);
    require(cd_offset <= map_.size() && cd_size <= map_.size() - cd_offset,
            "{}: central directory (offset {}, {} bytes) runs past the end of the file ({} "
            "bytes); the file is truncated",
            file, cd_offset, cd_size, map_.size());
    const std::byte* p = map_.data() + cd_offset;
    const std::byte* end = p + cd_size;
    entries_.reserve(n_entries < 1000000 ? n_entries : 0);
    for (uint64_t i = 0; i < n_entries; ++i) {
        require(end - p >= 46 && le(p, 4) == kCentralSig,
                "{}: central directory entry {} of {} is damaged", file, i, n_entries);
        ZipEntry z;
        z.flags = uint16_t(le(p + 8, 2));
        z.method = uint16_t(le(p + 10, 2));
        z.crc32 = uint32_t(le(p + 16, 4));
        z.compressed_size = le(p + 20, 4);
        z.size = le(p + 24, 4);
        const size_t name_len = le(p + 28, 2), extra_len = le(p + 30, 2),
                     comment_len = le(p + 32, 2);
        z.local_header_offset = le(p + 42, 4);
        require(size_t(end - p) >= 46 + name_len + extra_len + comment_len,
                "{}: central directory entry {} of {} runs past the directory", file, i, n_entries);
        z.name.assign(reinterpret_cast<const char*>(p + 46), name_len);
        // ZIP64 extended information: 64-bit values for the fields saturated above.
        const std::byte* x = p + 46 + name_len;
        const std::byte* xend = x + extra_len;
        while (xend - x >= 4) {
            const uint64_t id = le(x, 2), len = le(x + 2, 2);
            if (uint64_t(xend - x - 4) < len) break;
            if (id == 0x0001) {
                const std::byte* f = x + 4;
                const std::byte* fend = f + len;
                auto take = [&](uint64_t& v) {
                    if (v != 0xffffffff) return;
                    require(fend - f >= 8, "{}: entry \"{}\": short ZIP64 extra field", file,
                            z.name);
                    v = le(f, 8);
                    f += 8;
                };
                take(z.size);
                take(z.compressed_size);
                take(z.local_header_offset);
            }
            x += 4 + len;
        }
        entries_.push_back(std::move(z));
        p += 46 + name_len + extra_len + comment_len;
    }
}

const ZipEntry* ZipReader::find(const std::string& name) const {
    for (const auto& e : entries_)
        if (e.name == name) return &e;
    return nullptr;
}

std::span<const std::byte> ZipReader::data(const ZipEntry& e, bool verify_crc) const {
    const std::string file = path_.string();
    require(e.method == 0,
            "{}: entry \"{}\" is compressed (method {}{}); only stored entries are supported, "
            "as torch.save writes them",
            file, e.name, e.method, e.method == 8 ? ", deflate" : "");
    require((e.flags & 1u) == 0, "{}: entry \"{}\" is encrypted", file, e.name);
    require(e.compressed_size == e.size,
            "{}: stored entry \"{}\" has compressed size {} but size {}", file, e.name,
            e.compressed_size, e.size);
    require(e.local_header_offset <= map_.size() && map_.size() - e.local_header_offset >= 30 &&
                le(map_.data() + e.local_header_offset, 4) == kLocalSig,
            "{}: entry \"{}\": no local header at offset {} (file of {} bytes; truncated?)", file,
            e.name, e.local_header_offset, map_.size());
    const std::byte* L = map_.data() + e.local_header_offset;
    const uint64_t start = e.local_header_offset + 30 + le(L + 26, 2) + le(L + 28, 2);
    require(start <= map_.size() && e.size <= map_.size() - start,
            "{}: entry \"{}\" ({} bytes at offset {}) runs past the end of the file ({} bytes); "
            "the file is truncated",
            file, e.name, e.size, start, map_.size());
    std::span<const std::byte> d(map_.data() + start, size_t(e.size));
    if (verify_crc) {
        const uint32_t c = crc32_of(d);
        require(c == e.crc32, "{}: entry \"{}\" fails its CRC-32 check ({:08x}, expected {:08x})",
                file, e.name, c, e.crc32);
    }
    return d;
}

}  // namespace promptlens
