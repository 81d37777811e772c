// A seeded, portable random number generator (xoshiro256**, seeded by SplitMix64). The standard
// library's distributions differ between implementations, so the few we need are written here:
// the same seed gives the same numbers on every platform and compiler.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace promptlens {

class Rng {
  public:
    // `stream` derives independent generators from one seed (one per restart, per chunk, ...).
    explicit Rng(uint64_t seed, uint64_t stream = 0) {
        uint64_t x = seed ^ (0x9E3779B97F4A7C15ULL * (stream + 1));
        for (auto& s : state_) s = splitmix64(x);
    }

    uint64_t next() {
        const uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }
    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift with rejection).
    uint64_t below(uint64_t n) {
        for (;;) {
            __uint128_t m = static_cast<__uint128_t>(next()) * n;
            auto low = static_cast<uint64_t>(m);
            if (low >= n || low >= (-n) % n) return static_cast<uint64_t>(m >> 64);
        }
    }
    // Standard normal (Box-Muller; the second value is discarded to keep the stream simple).
    double normal() {
        double u1 = uniform(), u2 = uniform();
        if (u1 < 1e-300) u1 = 1e-300;
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    }

    // SplitMix64: advances x by the golden ratio and returns its mix (seeding, and a hash of a
    // counter for callers that need random values addressed by index).
    static uint64_t splitmix64(uint64_t& x) {
        uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }

  private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t state_[4];
};

}  // namespace promptlens
