#include "extract/content_hash.hpp"

#include <fmt/format.h>

#include <cstring>

namespace promptlens {
namespace {

inline uint64_t mix(uint64_t a, uint64_t b) {
    const __uint128_t r = static_cast<__uint128_t>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}
constexpr uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull;

}  // namespace

ContentHash& ContentHash::bytes(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    length_ += n;
    uint64_t s = state_;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint64_t a, b;
        std::memcpy(&a, p + i, 8);
        std::memcpy(&b, p + i + 8, 8);
        s = mix(a ^ k0 ^ s, b ^ k1);
    }
    if (i < n) {
        unsigned char tail[16] = {};
        std::memcpy(tail, p + i, n - i);
        uint64_t a, b;
        std::memcpy(&a, tail, 8);
        std::memcpy(&b, tail + 8, 8);
        s = mix(a ^ k0 ^ s, b ^ k1 ^ (n - i));
    }
    state_ = s;
    return *this;
}

uint64_t ContentHash::value() const {
    return mix(state_ ^ k0, length_ ^ k1);
}

std::string ContentHash::hex() const {
    return fmt::format("{:016x}", value());
}

}  // namespace promptlens
