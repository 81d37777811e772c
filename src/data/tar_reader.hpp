// Reading files out of a tar archive as a stream, gzip-compressed or not (zlib's gzread passes
// plain files through), without unpacking it to disk: aclImdb_v1.tar.gz holds 100,000 reviews and
// `promptlens extract` reads the 25,000 it needs in one pass. Understands ustar (name + prefix),
// GNU long names ('L') and pax extended headers ('x' path=); only regular files are returned.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace promptlens {

// Calls `take(path, content)` for every regular file whose path `want(path)` accepts, in archive
// order; the content of other files is skipped without being kept. Paths are as stored, with a
// leading "./" removed. A truncated or corrupt archive is an Error naming the archive and offset.
void read_tar_files(const std::filesystem::path& archive,
                    const std::function<bool(const std::string& path)>& want,
                    const std::function<void(const std::string& path, std::string content)>& take);

}  // namespace promptlens
