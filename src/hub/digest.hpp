// The two checksums the HuggingFace hub names its files by: LFS files (weights) by the SHA-256 of
// their content (the `X-Linked-Etag` header), plain git files (config.json, vocab.json, …) by their
// git object id, the SHA-1 of "blob <size>\0" followed by the content (the `ETag` header).
// OpenSSL's EVP digests, read in 1 MiB blocks. Lower-case hex.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace promptlens {

std::string sha256_hex(std::string_view data);
std::string git_blob_sha1_hex(std::string_view data);
std::string sha256_file(const std::filesystem::path& path);
std::string git_blob_sha1_file(const std::filesystem::path& path);

}  // namespace promptlens
