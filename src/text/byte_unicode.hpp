// GPT-2's byte <-> Unicode map (`bytes_to_unicode` in OpenAI's encoder.py and HuggingFace's
// GPT2Tokenizer). BPE runs on bytes, but vocab.json and merges.txt spell each byte as one printable
// code point: the 188 printable Latin-1 bytes stand for themselves, the other 68 (controls, space,
// 0x7F-0xA0, 0xAD) become U+0100.. in byte order, e.g. ' ' -> 'Ġ' (U+0120), '\n' -> 'Ċ' (U+010A).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace promptlens::text {

// The code point that stands for byte b.
char32_t byte_to_unicode(uint8_t b);

// The byte a code point stands for, or nullopt when it stands for none.
std::optional<uint8_t> unicode_to_byte(char32_t c);

// Each byte of `bytes` spelled as its code point, UTF-8 encoded (the form vocab.json uses).
std::string bytes_to_token_text(std::string_view bytes);

// The inverse: the bytes a vocab.json token stands for, or nullopt when it contains a code point
// outside the map (e.g. a special token written in plain text) or is not valid UTF-8.
std::optional<std::string> token_text_to_bytes(std::string_view token);

// Appends code point c to `out` as UTF-8.
void append_utf8(std::string& out, char32_t c);

}  // namespace promptlens::text
