// UTF-8 checks for text entering the tokenizer. GPT-2's tokenizer works on Unicode text (Python
// `str`), so bytes that are not valid UTF-8 are either an error that names the byte offset, or are
// replaced by U+FFFD exactly as Python's `bytes.decode("utf-8", errors="replace")` does (one U+FFFD
// per maximal ill-formed subpart, the Unicode "best practice" Python follows).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace promptlens::text {

// Offset of the first byte that does not start a well-formed UTF-8 sequence (overlongs, surrogates
// and code points above U+10FFFF are ill-formed), or nullopt when all of `s` is valid.
std::optional<size_t> find_invalid_utf8(std::string_view s);

// `s` with each maximal ill-formed subpart replaced by U+FFFD (Python's errors="replace").
std::string replace_invalid_utf8(std::string_view s);

enum class InvalidUtf8 { error, replace };

// Returns `s` unchanged when valid; otherwise throws (naming `what`, the byte offset and, when
// `s` has several lines, the 1-based line) or replaces, as `policy` says.
std::string check_utf8(std::string_view s, InvalidUtf8 policy, std::string_view what);

// Parses "error" / "replace".
InvalidUtf8 parse_invalid_utf8(std::string_view name);

}  // namespace promptlens::text
