#include "core/atomic_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace promptlens {

AtomicFile::AtomicFile(std::filesystem::path target) : target_(std::move(target)) {
    temp_ = target_;
    temp_ += fmt::format(".tmp.{}", ::getpid());
    auto parent = target_.parent_path();
    if (!parent.empty() && !std::filesystem::is_directory(parent)) {
        std::error_code ec;
        std::filesystem::create_directories(parent, ec);
        require(!ec, "{}: cannot create directory: {}", parent.string(), ec.message());
    }
    file_ = std::fopen(temp_.c_str(), "wb");
    require(file_ != nullptr, "{}: cannot write there (opening {} failed: {})", target_.string(),
            temp_.filename().string(), std::strerror(errno));
}

AtomicFile::~AtomicFile() {
    if (file_ != nullptr) {
        std::fclose(file_);
        std::error_code ec;
        std::filesystem::remove(temp_, ec);
    }
}

void AtomicFile::write(const void* data, size_t bytes) {
    require(file_ != nullptr, "{}: write after commit", target_.string());
    if (bytes == 0) return;
    if (std::fwrite(data, 1, bytes, file_) != bytes) {
        fail("{}: write failed: {}", temp_.string(), std::strerror(errno));
    }
}

void AtomicFile::commit() {
    require(file_ != nullptr, "{}: committed twice", target_.string());
    bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
    int err = errno;
    ok = (std::fclose(file_) == 0) && ok;
    file_ = nullptr;
    if (!ok) {
        std::error_code ec;
        std::filesystem::remove(temp_, ec);
        fail("{}: write failed: {}", temp_.string(), std::strerror(err));
    }
    std::error_code ec;
    std::filesystem::rename(temp_, target_, ec);
    if (ec) {
        std::filesystem::remove(temp_, ec);
        fail("{}: cannot rename into place: {}", target_.string(), ec.message());
    }
}

void write_text_file(const std::filesystem::path& path, std::string_view text) {
    AtomicFile out(path);
    out.write(text);
    out.commit();
}

}  // namespace promptlens
