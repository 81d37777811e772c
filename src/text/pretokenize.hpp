// GPT-2's pre-tokenisation: the text is cut into words by OpenAI's pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// (letters and numbers are Unicode classes, so std::regex cannot express it) and BPE then runs on
// each word alone. Compiled once with PCRE2 (UTF + UCP, JIT when available), matching Python's
// `regex.findall`, which HuggingFace's GPT2Tokenizer uses. The pattern covers every character, so
// the pieces are contiguous and concatenate back to the text.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

namespace promptlens::text {

inline constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class Pretokenizer {
  public:
    // Compiles `pattern` (GPT-2's by default); throws Error naming the offset of a bad pattern.
    explicit Pretokenizer(std::string_view pattern = kGpt2Pattern);
    ~Pretokenizer();
    Pretokenizer(Pretokenizer&&) noexcept;
    Pretokenizer& operator=(Pretokenizer&&) noexcept;

    // Appends the pieces of `text` (valid UTF-8, not checked again here) to `out`, in order; the
    // views point into `text`. Thread-safe.
    void split(std::string_view text, std::vector<std::string_view>& out) const;
    std::vector<std::string_view> split(std::string_view text) const;

    bool jit() const;  // whether PCRE2's JIT compiled the pattern

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace promptlens::text
