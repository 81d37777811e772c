#include "core/parallel.hpp"

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "core/error.hpp"

namespace promptlens {

int resolve_threads(int requested) {
    require(requested >= 0, "--threads must be 0 (all) or positive, got {}", requested);
    if (requested > 0) return requested;
    unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(hw);
}

void parallel_for(size_t n_chunks, int threads, const std::function<void(size_t)>& fn) {
    size_t workers = std::min<size_t>(static_cast<size_t>(resolve_threads(threads)), n_chunks);
    if (workers <= 1) {
        for (size_t c = 0; c < n_chunks; ++c) fn(c);
        return;
    }
    std::atomic<size_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto work = [&] {
        for (size_t c = next.fetch_add(1); c < n_chunks; c = next.fetch_add(1)) {
            try {
                fn(c);
            } catch (...) {
                std::lock_guard lock(error_mutex);
                if (!error) error = std::current_exception();
                next.store(n_chunks);
            }
        }
    };
    std::vector<std::thread> pool;
    pool.reserve(workers - 1);
    for (size_t t = 1; t < workers; ++t) pool.emplace_back(work);
    work();
    for (auto& th : pool) th.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace promptlens
