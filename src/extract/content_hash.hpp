// A fast 64-bit content hash (not cryptographic) for the identity of an extraction: the model's
// weights, the prompts, the tokenised dataset and the options. `promptlens extract` records it in
// meta.json and its resume journal, so a rerun resumes only into outputs made from exactly the
// same inputs. 8-byte words are mixed with a multiply–xorshift (wyhash-like), a few GB/s, so
// hashing GPT-2's 500 MB of weights costs a fraction of a second.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace promptlens {

class ContentHash {
  public:
    ContentHash& bytes(const void* data, size_t n);
    ContentHash& text(std::string_view s) {  // length-prefixed, so "ab"+"c" != "a"+"bc"
        u64(s.size());
        return bytes(s.data(), s.size());
    }
    ContentHash& u64(uint64_t v) { return bytes(&v, sizeof v); }
    template <class T>
    ContentHash& span(std::span<const T> v) {
        u64(v.size());
        return bytes(v.data(), v.size_bytes());
    }
    uint64_t value() const;
    std::string hex() const;  // 16 lowercase hex digits

  private:
    uint64_t state_ = 0x243f6a8885a308d3ull, length_ = 0;
};

}  // namespace promptlens
