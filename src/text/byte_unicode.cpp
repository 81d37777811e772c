#include "text/byte_unicode.hpp"

namespace promptlens::text {
namespace {

struct Tables {
    std::array<char32_t, 256> to_unicode{};
    std::array<int16_t, 324> to_byte{};  // indexed by code point; every mapped one is < 324

    Tables() {
        to_byte.fill(-1);
        auto printable = [](int b) {
            return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        };
        int next = 0;
        for (int b = 0; b < 256; ++b) {
            char32_t c = printable(b) ? char32_t(b) : char32_t(256 + next++);
            to_unicode[b] = c;
            to_byte[c] = int16_t(b);
        }
    }
};

const Tables& tables() {
    static const Tables t;
    return t;
}

}  // namespace

char32_t byte_to_unicode(uint8_t b) {
    return tables().to_unicode[b];
}

std::optional<uint8_t> unicode_to_byte(char32_t c) {
    if (c >= tables().to_byte.size() || tables().to_byte[c] < 0) return std::nullopt;
    return uint8_t(tables().to_byte[c]);
}

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += char(c);
    } else if (c < 0x800) {
        out += char(0xC0 | (c >> 6));
        out += char(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += char(0xE0 | (c >> 12));
        out += char(0x80 | ((c >> 6) & 0x3F));
        out += char(0x80 | (c & 0x3F));
    } else {
        out += char(0xF0 | (c >> 18));
        out += char(0x80 | ((c >> 12) & 0x3F));
        out += char(0x80 | ((c >> 6) & 0x3F));
        out += char(0x80 | (c & 0x3F));
    }
}

std::string bytes_to_token_text(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char b : bytes) append_utf8(out, byte_to_unicode(uint8_t(b)));
    return out;
}

std::optional<std::string> token_text_to_bytes(std::string_view token) {
    // Every mapped code point is below U+0800: one or two UTF-8 bytes.
    std::string out;
    out.reserve(token.size());
    for (size_t i = 0; i < token.size();) {
        const auto c0 = static_cast<unsigned char>(token[i]);
        char32_t c;
        if (c0 < 0x80) {
            c = c0;
            i += 1;
        } else if ((c0 & 0xE0) == 0xC0 && i + 1 < token.size() &&
                   (static_cast<unsigned char>(token[i + 1]) & 0xC0) == 0x80) {
            c = char32_t((c0 & 0x1F) << 6) | (static_cast<unsigned char>(token[i + 1]) & 0x3F);
            i += 2;
        } else {
            return std::nullopt;
        }
        auto b = unicode_to_byte(c);
        if (!b) return std::nullopt;
        out += char(*b);
    }
    return out;
}

}  // namespace promptlens::text
