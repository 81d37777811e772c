// A read-only ZIP archive reader for PyTorch checkpoints. `torch.save` (since 1.6) writes a ZIP
// whose entries are all STORED (never compressed) and 64-byte aligned, with ZIP64 records once the
// archive passes 4 GiB. This reader maps the file, trusts only the central directory (torch's local
// headers carry zero sizes and a data descriptor), and hands out each stored entry as a span into
// the mapping after checking it lies inside the file and, on request, its CRC-32. A compressed
// entry, an encrypted one, a multi-disk archive or a directory that runs outside the file is an
// Error naming the archive and the entry; nothing is ever decompressed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/mapped_file.hpp"

namespace promptlens {

struct ZipEntry {
    std::string name;
    uint16_t method = 0;  // 0 = stored, 8 = deflate, …
    uint16_t flags = 0;   // general-purpose bit flags
    uint32_t crc32 = 0;   // from the central directory
    uint64_t compressed_size = 0;
    uint64_t size = 0;  // uncompressed
    uint64_t local_header_offset = 0;
};

// CRC-32 (ISO-HDLC, as zip and zlib use), for checking entries and writing test archives.
uint32_t crc32_of(std::span<const std::byte> data, uint32_t crc = 0);

class ZipReader {
  public:
    // Maps the file and reads its central directory; throws Error naming the file on any problem.
    explicit ZipReader(const std::filesystem::path& path);
    ZipReader(const ZipReader&) = delete;
    ZipReader& operator=(const ZipReader&) = delete;

    const std::filesystem::path& path() const { return path_; }
    const std::vector<ZipEntry>& entries() const { return entries_; }  // central-directory order
    const ZipEntry* find(const std::string& name) const;               // nullptr when absent

    // The bytes of a stored entry, inside the mapping. verify_crc recomputes the CRC-32 (a few
    // hundred MB/s) so a truncated or damaged entry is reported rather than read.
    std::span<const std::byte> data(const ZipEntry& e, bool verify_crc = true) const;

    // True when the first bytes of the file are a ZIP local header ("PK\3\4").
    static bool looks_like_zip(std::span<const std::byte> head);

  private:
    std::filesystem::path path_;
    MappedFile map_;
    std::vector<ZipEntry> entries_;
};

}  // namespace promptlens
