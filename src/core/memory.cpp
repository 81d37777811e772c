#include "core/memory.hpp"

#include <cstdlib>  // defines __GLIBC__ on glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace promptlens {

void retain_freed_memory() {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum on 64-bit (HEAP_MAX_SIZE / 2)
    mallopt(M_TRIM_THRESHOLD, 1 << 30);   // an int: 1 GiB of free heap top before trimming
#endif
}

}  // namespace promptlens
