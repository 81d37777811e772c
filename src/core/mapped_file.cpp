#include "core/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace promptlens {

MappedFile::MappedFile(const std::filesystem::path& path, const char* what, size_t min_size,
                       const char* why_min) {
    const std::string file = path.string();
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    require(fd >= 0, "cannot open {} {}: {}", what, file, std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        fail("cannot stat {} {}: {}", what, file, std::strerror(e));
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ < min_size) {
        ::close(fd);
        fail("{}: {} bytes is too short for a {} ({})", file, size_, what, why_min);
    }
    void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    ::close(fd);
    require(m != MAP_FAILED, "cannot map {} {}: {}", what, file, std::strerror(e));
    data_ = static_cast<const std::byte*>(m);
}

MappedFile::~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

}  // namespace promptlens
