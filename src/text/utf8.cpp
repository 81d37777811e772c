#include "text/utf8.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace promptlens::text {
namespace {

// Length of the well-formed sequence starting at s[i] (1..4), or 0 when ill-formed; in that case
// `maximal` is the length of the maximal subpart (>= 1), the bytes one U+FFFD replaces.
size_t sequence_length(std::string_view s, size_t i, size_t& maximal) {
    auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char c = b(0);
    maximal = 1;
    if (c < 0x80) return 1;
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0;  // no overlongs
        if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90;  // no overlongs
        if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
        return 0;
    }
    for (size_t k = 1; k < need; ++k) {
        if (i + k >= s.size()) return 0;
        const unsigned char lo_k = k == 1 ? lo : 0x80, hi_k = k == 1 ? hi : 0xBF;
        if (b(k) < lo_k || b(k) > hi_k) return 0;
        maximal = k + 1;
    }
    return need;
}

}  // namespace

std::optional<size_t> find_invalid_utf8(std::string_view s) {
    size_t i = 0, maximal;
    while (i < s.size()) {
        // ASCII fast path, 8 bytes at a time.
        while (i + 8 <= s.size()) {
            uint64_t w;
            std::copy_n(s.data() + i, 8, reinterpret_cast<char*>(&w));
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= s.size()) break;
        size_t n = sequence_length(s, i, maximal);
        if (n == 0) return i;
        i += n;
    }
    return std::nullopt;
}

std::string replace_invalid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 8);
    size_t i = 0, maximal;
    while (i < s.size()) {
        size_t n = sequence_length(s, i, maximal);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            i += maximal;
        } else {
            out.append(s.data() + i, n);
            i += n;
        }
    }
    return out;
}

std::string check_utf8(std::string_view s, InvalidUtf8 policy, std::string_view what) {
    auto bad = find_invalid_utf8(s);
    if (!bad) return std::string(s);
    if (policy == InvalidUtf8::replace) return replace_invalid_utf8(s);
    const size_t line = 1 + static_cast<size_t>(std::count(s.begin(), s.begin() + *bad, '\n'));
    const bool multiline = s.find('\n') != std::string_view::npos;
    fail(
        "{}: invalid UTF-8 at byte offset {}{}: 0x{:02X} does not start a well-formed sequence "
        "(fix the input, or replace such bytes by U+FFFD with --invalid-utf8 replace)",
        what, *bad, multiline ? fmt::format(" (line {})", line) : std::string(),
        static_cast<unsigned char>(s[*bad]));
}

InvalidUtf8 parse_invalid_utf8(std::string_view name) {
    if (name == "error") return InvalidUtf8::error;
    if (name == "replace") return InvalidUtf8::replace;
    fail("invalid-utf8 policy '{}': expected 'error' or 'replace'", name);
}

}  // namespace promptlens::text
