#include "core/parallel.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "core/error.hpp"

namespace promptlens {

int resolve_threads(int requested) {
    require(requested >= 0, "--threads must be 0 (all) or positive, got {}", requested);
    if (requested > 0) return requested;
    unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(hw);
}

namespace {

// One parallel loop: chunks handed out one at a time from a shared counter; the first exception
// stops the hand-out and is kept for the caller.
struct Loop {
    Loop(const std::function<void(size_t)>& f, size_t n) : fn(f), n_chunks(n) {}
    const std::function<void(size_t)>& fn;
    const size_t n_chunks;
    std::atomic<size_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;

    void work() {
        for (size_t c = next.fetch_add(1); c < n_chunks; c = next.fetch_add(1)) {
            try {
                fn(c);
            } catch (...) {
                std::lock_guard lock(error_mutex);
                if (!error) error = std::current_exception();
                next.store(n_chunks);
            }
        }
    }
};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
}

// True on pool threads, and on a caller's thread while its loop runs: a parallel_for from there
// runs serially (the threads are already busy with the outer loop).
thread_local bool t_inside_loop = false;

// Threads kept for the life of the process, so a loop costs a wake-up rather than a thread start
// (and the per-thread buffers the kernels keep in thread_local storage survive between calls).
// One loop at a time: the caller's thread works too, and helpers 0 … wanted−1 join in. A helper
// spins for up to 50 µs after each loop (the next one usually follows within microseconds; a
// longer spin measured no faster and takes the core from other processes), then sleeps
// on the futex behind std::atomic::wait.
class Pool {
  public:
    static Pool& instance() {
        static Pool* pool = new Pool;  // never destroyed: helpers may still sleep on it at exit
        return *pool;
    }

    // Runs the loop on this thread and `helpers` pool threads; false (nothing run) when another
    // thread's loop holds the pool.
    bool try_run(Loop& loop, size_t helpers) {
        std::unique_lock lock(run_mutex_, std::try_to_lock);
        if (!lock.owns_lock()) return false;
        for (; started_ < helpers; ++started_)
            std::thread([this, i = started_] { helper(i); }).detach();
        loop_ = &loop;
        finished_.store(0, std::memory_order_relaxed);
        // Epoch in the high bits, helper count in the low 16: a helper reads both at once, so it
        // can never mistake the next loop's count for this one's.
        const uint64_t word = state_.load(std::memory_order_relaxed);
        state_.store(((word >> 16) + 1) << 16 | helpers, std::memory_order_release);
        state_.notify_all();
        t_inside_loop = true;
        loop.work();
        t_inside_loop = false;
        for (int spin = 0; finished_.load(std::memory_order_acquire) != helpers; ++spin) {
            if (spin < kSpinBeforeWait) {
                cpu_relax();
                continue;
            }
            const size_t seen = finished_.load(std::memory_order_acquire);
            if (seen != helpers) finished_.wait(seen, std::memory_order_acquire);
        }
        loop_ = nullptr;
        return true;
    }

  private:
    static constexpr int kSpinBeforeWait = 1 << 12;
    static constexpr auto kSpinTime = std::chrono::microseconds(50);

    void helper(size_t index) {
        t_inside_loop = true;
        uint64_t seen = 0;
        for (;;) {
            uint64_t word = state_.load(std::memory_order_acquire);
            const auto spin_until = std::chrono::steady_clock::now() + kSpinTime;
            for (int i = 0; word >> 16 == seen >> 16; ++i) {
                cpu_relax();
                if (i % 64 == 63 && std::chrono::steady_clock::now() > spin_until) {
                    state_.wait(word, std::memory_order_acquire);
                    i = 0;
                }
                word = state_.load(std::memory_order_acquire);
            }
            seen = word;
            if (index < (word & 0xffff)) {
                loop_->work();
                finished_.fetch_add(1, std::memory_order_acq_rel);
                finished_.notify_one();
            }
        }
    }

    std::mutex run_mutex_;
    size_t started_ = 0;  // helper threads started (detached; they live as long as the process)
    std::atomic<uint64_t> state_{0};
    std::atomic<size_t> finished_{0};
    Loop* loop_ = nullptr;
};

// The fallback when the pool is busy with another thread's loop: threads of its own.
void run_on_new_threads(Loop& loop, size_t helpers) {
    std::vector<std::thread> threads;
    threads.reserve(helpers);
    for (size_t t = 0; t < helpers; ++t)
        threads.emplace_back([&loop] {
            t_inside_loop = true;
            loop.work();
        });
    loop.work();
    for (auto& th : threads) th.join();
}

}  // namespace

void parallel_for(size_t n_chunks, int threads, const std::function<void(size_t)>& fn) {
    // At most 65,536 workers (the pool's state word counts helpers in 16 bits); which worker runs
    // a chunk never changes a result, so the cap is invisible except in speed.
    const size_t workers = std::min<size_t>(
        {static_cast<size_t>(resolve_threads(threads)), n_chunks, size_t{0x10000}});
    if (workers <= 1 || t_inside_loop) {
        for (size_t c = 0; c < n_chunks; ++c) fn(c);
        return;
    }
    Loop loop(fn, n_chunks);
    if (!Pool::instance().try_run(loop, workers - 1)) run_on_new_threads(loop, workers - 1);
    if (loop.error) std::rethrow_exception(loop.error);
}

}  // namespace promptlens
