#include "hub/digest.hpp"

#include <openssl/evp.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "core/error.hpp"

namespace promptlens {
namespace {

class Digest {
  public:
    explicit Digest(const EVP_MD* md) : ctx_(EVP_MD_CTX_new()) {
        require(ctx_ && EVP_DigestInit_ex(ctx_, md, nullptr) == 1, "digest: OpenSSL init failed");
    }
    ~Digest() { EVP_MD_CTX_free(ctx_); }
    Digest(const Digest&) = delete;
    Digest& operator=(const Digest&) = delete;

    void update(const void* data, size_t n) {
        require(EVP_DigestUpdate(ctx_, data, n) == 1, "digest: OpenSSL update failed");
    }
    std::string hex() {
        unsigned char out[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        require(EVP_DigestFinal_ex(ctx_, out, &n) == 1, "digest: OpenSSL final failed");
        static const char* digits = "0123456789abcdef";
        std::string s;
        for (unsigned i = 0; i < n; ++i) {
            s += digits[out[i] >> 4];
            s += digits[out[i] & 15];
        }
        return s;
    }

  private:
    EVP_MD_CTX* ctx_;
};

std::string git_blob_header(uint64_t size) {
    return "blob " + std::to_string(size) + '\0';
}

// Feeds the whole file to `d`; returns its size.
uint64_t feed_file(Digest& d, const std::filesystem::path& path) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
    require(f != nullptr, "{}: cannot open for reading", path.string());
    std::vector<char> buf(1 << 20);
    uint64_t total = 0;
    while (size_t n = std::fread(buf.data(), 1, buf.size(), f.get())) {
        d.update(buf.data(), n);
        total += n;
    }
    require(!std::ferror(f.get()), "{}: read error", path.string());
    return total;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
    Digest d(EVP_sha256());
    d.update(data.data(), data.size());
    return d.hex();
}

std::string git_blob_sha1_hex(std::string_view data) {
    Digest d(EVP_sha1());
    const std::string h = git_blob_header(data.size());
    d.update(h.data(), h.size());
    d.update(data.data(), data.size());
    return d.hex();
}

std::string sha256_file(const std::filesystem::path& path) {
    Digest d(EVP_sha256());
    feed_file(d, path);
    return d.hex();
}

std::string git_blob_sha1_file(const std::filesystem::path& path) {
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(path, ec);
    require(!ec, "{}: cannot read its size: {}", path.string(), ec.message());
    Digest d(EVP_sha1());
    const std::string h = git_blob_header(size);
    d.update(h.data(), h.size());
    require(feed_file(d, path) == size, "{}: changed while being read", path.string());
    return d.hex();
}

}  // namespace promptlens
