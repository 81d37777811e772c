// The benchmarks' timer: the best wall-clock time of `repeats` runs of fn, in seconds.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>

namespace promptlens::bench {

template <class F>
double best_of(int repeats, F&& fn) {
    double best = INFINITY;
    for (int r = 0; r < repeats; ++r) {
        const auto t = std::chrono::steady_clock::now();
        fn();
        best = std::min(
            best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
    }
    return best;
}

}  // namespace promptlens::bench
