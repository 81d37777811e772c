// Explicit-thread-count parallel loops. Work is cut into chunks whose boundaries depend only on
// the problem, never on the thread count, and every reduction combines per-chunk partials in
// chunk order: results are bitwise identical for any number of threads.
#pragma once

#include <cstddef>
#include <functional>

namespace promptlens {

// 0 means "all hardware threads"; negative values are an error.
int resolve_threads(int requested);

// Calls fn(chunk) for every chunk in [0, n_chunks), on up to `threads` threads (the caller's
// thread is one of them; the others come from a pool kept for the life of the process, so a call
// costs a wake-up, not a thread start). The first exception thrown by any chunk is rethrown here.
// Called from inside a chunk, it runs serially on that thread.
void parallel_for(size_t n_chunks, int threads, const std::function<void(size_t chunk)>& fn);

// Number of chunks of `chunk_size` items covering n items.
inline size_t chunk_count(size_t n, size_t chunk_size) {
    return (n + chunk_size - 1) / chunk_size;
}

}  // namespace promptlens
