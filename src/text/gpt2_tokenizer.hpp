// GPT-2's tokenizer, byte-exact with HuggingFace's (slow, Python) GPT2Tokenizer of transformers
// 4.31: special tokens written in the text (`<|endoftext|>`) are cut out first and become their id;
// every other stretch is pre-tokenised (pretokenize.hpp), each word's UTF-8 bytes go through
// byte-level BPE (bpe.hpp) and the merged symbols are the ids. Decoding maps ids back to bytes and
// replaces invalid UTF-8 by U+FFFD, as `decode(ids)` does. Verified on 3,000 review sentences,
// 150 raw e-mails and 14 corner cases (tests/data/gpt2/).
//
// A model folder gives it either vocab.json + merges.txt (GPT-2's own files) or a HuggingFace
// tokenizer.json (BPE model with `vocab` and `merges`, `added_tokens` as special tokens).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/bpe.hpp"
#include "text/pretokenize.hpp"
#include "text/utf8.hpp"

namespace promptlens::text {

struct EncodeOptions {
    // Keep at most this many ids, dropping the end (HF truncation=True, truncation_side="right");
    // 0 keeps all.
    size_t max_length = 0;
    // Special tokens written in the text become their id (HF's default); off, they are plain text.
    bool special_tokens = true;
    // What to do with bytes that are not UTF-8: throw (naming the offset) or replace by U+FFFD.
    InvalidUtf8 invalid_utf8 = InvalidUtf8::error;
};

struct DecodeOptions {
    // HF's clean_up_tokenization_spaces: " ." -> ".", " n't" -> "n't", " 's" -> "'s", ... (what
    // GPT2Tokenizer.decode does by default in transformers 4.31). Off gives back the exact text.
    bool clean_up_spaces = false;
    bool skip_special_tokens = false;
};

class Gpt2Tokenizer {
  public:
    // From a model folder: vocab.json + merges.txt when both are there, else tokenizer.json.
    static Gpt2Tokenizer load(const std::filesystem::path& dir);
    static Gpt2Tokenizer from_files(const std::filesystem::path& vocab_json,
                                    const std::filesystem::path& merges_txt);
    static Gpt2Tokenizer from_tokenizer_json(const std::filesystem::path& tokenizer_json);

    // `text` is UTF-8; `what` names it in errors (e.g. "line 3 of reviews.jsonl").
    std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options = {},
                                std::string_view what = "text") const;
    // Throws for an id outside the vocabulary.
    std::string decode(std::span<const int32_t> ids, const DecodeOptions& options = {}) const;

    // The token as vocab.json spells it (bytes as printable code points, e.g. "Ġgood").
    const std::string& token(int32_t id) const;
    std::optional<int32_t> token_id(std::string_view token) const;
    size_t vocab_size() const { return n_tokens_; }
    // `<|endoftext|>` (GPT-2's bos, eos, unk and the seed's pad), when the vocabulary has it.
    std::optional<int32_t> eos_id() const { return token_id("<|endoftext|>"); }
    const std::vector<std::string>& special_tokens() const { return specials_; }
    const Bpe& bpe() const { return bpe_; }
    const Pretokenizer& pretokenizer() const { return *pre_; }
    std::string source() const { return source_; }  // the files it was read from

    // Each word alone: pre-tokenisation + BPE of valid UTF-8 without special tokens (appends).
    void encode_ordinary(std::string_view text, std::vector<int32_t>& out) const;

  private:
    Gpt2Tokenizer() = default;
    // `where_merge(k)` names merge k in errors (file and line).
    void build(std::vector<std::pair<std::string, int32_t>> vocab,
               const std::vector<std::pair<std::string, std::string>>& merges,
               const std::function<std::string(size_t)>& where_merge,
               const std::string& vocab_name);

    std::unordered_map<std::string, int32_t> ids_;
    std::vector<std::string> tokens_;       // by id ("" for a hole)
    std::vector<std::string> token_bytes_;  // by id: the bytes it decodes to
    std::vector<bool> present_;             // by id: whether the id has a token
    std::vector<std::string> specials_;
    std::vector<int32_t> special_ids_;
    size_t n_tokens_ = 0;
    Bpe bpe_;
    std::shared_ptr<const Pretokenizer> pre_;
    uint64_t serial_ = 0;  // tells the per-thread word caches apart
    std::string source_;
};

}  // namespace promptlens::text
