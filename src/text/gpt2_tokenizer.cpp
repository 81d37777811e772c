#include "text/gpt2_tokenizer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <functional>
#include <unordered_set>

#include "core/error.hpp"
#include "text/byte_unicode.hpp"

namespace promptlens::text {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path, std::string_view what) {
    std::ifstream in(path, std::ios::binary);
    require(in.good(), "{} {}: cannot open it (does the model folder have this file?)", what,
            path.string());
    std::string s{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    require(!in.bad(), "{} {}: read failed", what, path.string());
    return s;
}

size_t line_of(std::string_view s, size_t offset) {
    offset = std::min(offset, s.size());
    return 1 + size_t(std::count(s.begin(), s.begin() + long(offset), '\n'));
}

// vocab.json: one flat JSON object of token -> integer id. A small parser of its own so that
// every error names the line (and it is several times faster than a general JSON reader).
class VocabParser {
  public:
    VocabParser(std::string_view s, std::string name) : s_(s), name_(std::move(name)) {}

    std::vector<std::pair<std::string, int32_t>> parse(std::vector<size_t>& lines) {
        std::vector<std::pair<std::string, int32_t>> out;
        ws();
        expect('{', "a JSON object of token -> id");
        ws();
        if (peek() == '}') {
            ++i_;
        } else {
            while (true) {
                ws();
                const size_t line = line_here();
                std::string key = string();
                ws();
                expect(':', "':' after the token");
                ws();
                out.emplace_back(std::move(key), integer());
                lines.push_back(line);
                ws();
                if (peek() == ',') {
                    ++i_;
                    continue;
                }
                expect('}', "',' or '}' after an id");
                break;
            }
        }
        ws();
        if (i_ != s_.size()) error("unexpected text after the closing '}'");
        return out;
    }

  private:
    [[noreturn]] void error(std::string_view msg) const {
        fail("{}: line {}: {}", name_, line_here(), msg);
    }
    size_t line_here() const {
        // Lines are counted incrementally: vocab.json is one line or one line per token.
        while (counted_ < i_ && counted_ < s_.size()) {
            if (s_[counted_] == '\n') ++line_;
            ++counted_;
        }
        return line_;
    }
    char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
    void ws() {
        while (i_ < s_.size() &&
               (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
            ++i_;
    }
    void expect(char c, std::string_view what) {
        if (peek() != c) {
            error(i_ >= s_.size() ? fmt::format("file ends early; expected {}", what)
                                  : fmt::format("expected {}", what));
        }
        ++i_;
    }
    unsigned hex4() {
        if (i_ + 4 > s_.size()) error("\\u escape needs 4 hex digits");
        unsigned v = 0;
        for (int k = 0; k < 4; ++k) {
            char c = s_[i_++];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= unsigned(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= unsigned(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= unsigned(c - 'A' + 10);
            else
                error("\\u escape needs 4 hex digits");
        }
        return v;
    }
    std::string string() {
        expect('"', "a quoted token");
        std::string out;
        while (true) {
            if (i_ >= s_.size()) error("file ends inside a string");
            const char c = s_[i_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) error("control character inside a string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i_ >= s_.size()) error("file ends inside a string");
            switch (s_[i_++]) {
                case '"':
                    out += '"';
                    break;
                case '\\':
                    out += '\\';
                    break;
                case '/':
                    out += '/';
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'u': {
                    char32_t cp = hex4();
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        if (i_ + 2 > s_.size() || s_[i_] != '\\' || s_[i_ + 1] != 'u')
                            error("lone UTF-16 high surrogate in a \\u escape");
                        i_ += 2;
                        const unsigned lo = hex4();
                        if (lo < 0xDC00 || lo > 0xDFFF) error("bad UTF-16 surrogate pair");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        error("lone UTF-16 low surrogate in a \\u escape");
                    }
                    append_utf8(out, cp);
                    break;
                }
                default:
                    error("unknown escape in a string");
            }
        }
    }
    int32_t integer() {
        const size_t start = i_;
        int64_t v = 0;
        while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
            v = v * 10 + (s_[i_++] - '0');
            if (v > INT32_MAX) error("id too large");
        }
        if (i_ == start || peek() == '.' || peek() == 'e' || peek() == 'E')
            error("expected a non-negative integer id");
        return int32_t(v);
    }

    std::string_view s_;
    std::string name_;
    size_t i_ = 0;
    mutable size_t counted_ = 0, line_ = 1;
};

void check_utf8_file(std::string_view text, const std::string& name) {
    if (auto bad = find_invalid_utf8(text)) {
        fail("{}: line {}: invalid UTF-8 at byte offset {}", name, line_of(text, *bad), *bad);
    }
}

std::atomic<uint64_t> next_serial{1};

struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Each thread's BPE results for words it has seen, for one tokenizer at a time.
struct WordCache {
    uint64_t serial = 0;
    std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> words;
    static constexpr size_t kMaxWords = 1 << 17, kMaxWordBytes = 64;
};

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    std::string out;
    size_t pos = 0;
    for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
        out.append(s, pos, hit - pos);
        out += to;
    }
    if (pos == 0) return;
    out.append(s, pos);
    s.swap(out);
}

}  // namespace

Gpt2Tokenizer Gpt2Tokenizer::load(const fs::path& dir) {
    require(fs::is_directory(dir), "model folder {}: not a directory", dir.string());
    const bool has_vocab = fs::exists(dir / "vocab.json"),
               has_merges = fs::exists(dir / "merges.txt");
    if (has_vocab && has_merges) return from_files(dir / "vocab.json", dir / "merges.txt");
    if (fs::exists(dir / "tokenizer.json")) return from_tokenizer_json(dir / "tokenizer.json");
    fail(
        "model folder {}: no tokenizer: expected vocab.json and merges.txt (found {}) or "
        "tokenizer.json",
        dir.string(),
        has_vocab    ? "only vocab.json"
        : has_merges ? "only merges.txt"
                     : "neither");
}

Gpt2Tokenizer Gpt2Tokenizer::from_files(const fs::path& vocab_json, const fs::path& merges_txt) {
    const std::string vocab_name = vocab_json.string(), merges_name = merges_txt.string();
    const std::string vtext = read_file(vocab_json, "vocab.json");
    check_utf8_file(vtext, vocab_name);
    std::vector<size_t> vocab_lines;
    auto vocab = VocabParser(vtext, vocab_name).parse(vocab_lines);
    // Duplicate tokens or ids are almost surely a damaged file: name both lines.
    {
        std::unordered_map<std::string_view, size_t> seen_token;
        std::unordered_map<int32_t, size_t> seen_id;
        for (size_t k = 0; k < vocab.size(); ++k) {
            auto [t, fresh_t] = seen_token.emplace(vocab[k].first, k);
            require(fresh_t, "{}: line {}: token '{}' is listed again (first on line {})",
                    vocab_name, vocab_lines[k], vocab[k].first, vocab_lines[t->second]);
            auto [d, fresh_d] = seen_id.emplace(vocab[k].second, k);
            require(fresh_d, "{}: line {}: id {} of '{}' is also the id of '{}' (line {})",
                    vocab_name, vocab_lines[k], vocab[k].second, vocab[k].first,
                    vocab[d->second].first, vocab_lines[d->second]);
        }
    }

    const std::string mtext = read_file(merges_txt, "merges.txt");
    check_utf8_file(mtext, merges_name);
    std::vector<std::pair<std::string, std::string>> merges;
    std::vector<size_t> merge_lines;
    size_t line = 0;
    for (size_t pos = 0; pos < mtext.size();) {
        size_t end = mtext.find('\n', pos);
        if (end == std::string::npos) end = mtext.size();
        std::string_view l(mtext.data() + pos, end - pos);
        pos = end + 1;
        ++line;
        // HF drops the first line (the "#version: 0.2" header) and empty lines are nothing.
        if (line == 1 && l.starts_with("#version")) continue;
        std::vector<std::string_view> parts;
        for (size_t i = 0; i < l.size();) {
            while (i < l.size() && (l[i] == ' ' || l[i] == '\t' || l[i] == '\r')) ++i;
            size_t j = i;
            while (j < l.size() && l[j] != ' ' && l[j] != '\t' && l[j] != '\r') ++j;
            if (j > i) parts.push_back(l.substr(i, j - i));
            i = j;
        }
        if (parts.empty()) continue;
        require(parts.size() == 2,
                "{}: line {}: expected two space-separated symbols, got {}: '{}'", merges_name,
                line, parts.size(), l);
        merges.emplace_back(std::string(parts[0]), std::string(parts[1]));
        merge_lines.push_back(line);
    }
    Gpt2Tokenizer t;
    t.source_ = vocab_name + " + " + merges_name;
    t.build(
        std::move(vocab), merges,
        [&](size_t k) { return fmt::format("{}: line {}", merges_name, merge_lines[k]); },
        vocab_name);
    return t;
}

Gpt2Tokenizer Gpt2Tokenizer::from_tokenizer_json(const fs::path& path) {
    const std::string name = path.string();
    const std::string text = read_file(path, "tokenizer.json");
    check_utf8_file(text, name);
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        fail("{}: line {}: not valid JSON ({})", name, line_of(text, e.byte ? e.byte - 1 : 0),
             e.what());
    }
    require(j.is_object() && j.contains("model") && j["model"].is_object(),
            "{}: no \"model\" object; expected a HuggingFace tokenizer.json", name);
    const auto& model = j["model"];
    if (model.contains("type") && !model["type"].is_null()) {
        require(model["type"] == "BPE", "{}: model type {} is not BPE", name, model["type"].dump());
    }
    require(model.contains("vocab") && model["vocab"].is_object(),
            "{}: model.vocab is missing or not an object", name);
    require(model.contains("merges") && model["merges"].is_array(),
            "{}: model.merges is missing or not an array", name);
    std::vector<std::pair<std::string, int32_t>> vocab;
    std::unordered_set<int32_t> ids;
    for (const auto& [tok, id] : model["vocab"].items()) {
        require(id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() <= INT32_MAX,
                "{}: model.vocab[\"{}\"] is {}; expected a non-negative integer id", name, tok,
                id.dump());
        require(ids.insert(id.get<int32_t>()).second, "{}: model.vocab: id {} is used twice", name,
                id.get<int32_t>());
        vocab.emplace_back(tok, id.get<int32_t>());
    }
    std::vector<std::pair<std::string, std::string>> merges;
    const auto& jm = model["merges"];
    for (size_t k = 0; k < jm.size(); ++k) {
        const auto& m = jm[k];
        if (m.is_string()) {
            const std::string s = m.get<std::string>();
            const size_t sp = s.find(' ');
            require(sp != std::string::npos && sp > 0 && sp + 1 < s.size() &&
                        s.find(' ', sp + 1) == std::string::npos,
                    "{}: model.merges[{}] is \"{}\"; expected two symbols separated by one space",
                    name, k, s);
            merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
        } else {
            require(m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string(),
                    "{}: model.merges[{}] is {}; expected \"a b\" or [\"a\", \"b\"]", name, k,
                    m.dump());
            merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
        }
    }
    Gpt2Tokenizer t;
    t.source_ = name;
    std::vector<std::pair<std::string, int32_t>> added;
    if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
        for (const auto& a : j["added_tokens"]) {
            require(a.is_object() && a.contains("content") && a["content"].is_string() &&
                        a.contains("id") && a["id"].is_number_integer(),
                    "{}: added_tokens entry {} lacks a string \"content\" or an integer \"id\"",
                    name, a.dump());
            if (a.value("special", false)) t.specials_.push_back(a["content"].get<std::string>());
            const std::string content = a["content"].get<std::string>();
            const auto id = a["id"].get<int32_t>();
            bool known = false;
            for (const auto& [tok, vid] : vocab) known = known || tok == content;
            if (!known) {
                require(ids.insert(id).second, "{}: added token \"{}\" reuses id {}", name, content,
                        id);
                vocab.emplace_back(content, id);
            }
        }
    }
    t.build(
        std::move(vocab), merges,
        [&](size_t k) { return fmt::format("{}: model.merges[{}]", name, k); },
        name + " model.vocab");
    return t;
}

void Gpt2Tokenizer::build(std::vector<std::pair<std::string, int32_t>> vocab,
                          const std::vector<std::pair<std::string, std::string>>& merges,
                          const std::function<std::string(size_t)>& where_merge,
                          const std::string& vocab_name) {
    require(!vocab.empty(), "{}: the vocabulary is empty", vocab_name);
    int32_t max_id = 0;
    for (const auto& [tok, id] : vocab) max_id = std::max(max_id, id);
    n_tokens_ = vocab.size();
    tokens_.assign(size_t(max_id) + 1, std::string());
    token_bytes_.assign(size_t(max_id) + 1, std::string());
    present_.assign(size_t(max_id) + 1, false);
    ids_.reserve(vocab.size());
    for (auto& [tok, id] : vocab) {
        auto bytes = token_text_to_bytes(tok);
        token_bytes_[size_t(id)] = bytes ? *bytes : tok;  // e.g. a special token in plain text
        tokens_[size_t(id)] = tok;
        present_[size_t(id)] = true;
        ids_.emplace(std::move(tok), id);
    }
    std::array<int32_t, 256> byte_ids{};
    for (int b = 0; b < 256; ++b) {
        const std::string t = bytes_to_token_text(std::string(1, char(b)));
        auto it = ids_.find(t);
        require(it != ids_.end(),
                "{}: no token for byte 0x{:02X} ('{}'); a byte-level BPE "
                "vocabulary has all 256",
                vocab_name, b, t);
        byte_ids[size_t(b)] = it->second;
    }
    std::vector<BpeMerge> bm;
    bm.reserve(merges.size());
    for (size_t k = 0; k < merges.size(); ++k) {
        const auto& [a, b] = merges[k];
        auto ia = ids_.find(a), ib = ids_.find(b), im = ids_.find(a + b);
        require(ia != ids_.end(), "{}: symbol '{}' is not in the vocabulary", where_merge(k), a);
        require(ib != ids_.end(), "{}: symbol '{}' is not in the vocabulary", where_merge(k), b);
        require(im != ids_.end(), "{}: merged symbol '{}' is not in the vocabulary", where_merge(k),
                a + b);
        bm.push_back(BpeMerge{ia->second, ib->second, im->second});
    }
    bpe_ = Bpe(byte_ids, bm);
    if (specials_.empty() && ids_.count("<|endoftext|>")) specials_.push_back("<|endoftext|>");
    for (const auto& s : specials_) special_ids_.push_back(ids_.at(s));
    pre_ = std::make_shared<const Pretokenizer>();
    serial_ = next_serial.fetch_add(1);
}

const std::string& Gpt2Tokenizer::token(int32_t id) const {
    require(id >= 0 && size_t(id) < present_.size() && present_[size_t(id)],
            "token id {} is not in the vocabulary ({} tokens)", id, n_tokens_);
    return tokens_[size_t(id)];
}

std::optional<int32_t> Gpt2Tokenizer::token_id(std::string_view token) const {
    auto it = ids_.find(std::string(token));
    if (it == ids_.end()) return std::nullopt;
    return it->second;
}

void Gpt2Tokenizer::encode_ordinary(std::string_view text, std::vector<int32_t>& out) const {
    thread_local std::vector<std::string_view> pieces;
    thread_local WordCache cache;
    if (cache.serial != serial_) {
        cache.words.clear();
        cache.serial = serial_;
    }
    pieces.clear();
    pre_->split(text, pieces);
    for (std::string_view w : pieces) {
        if (w.size() > WordCache::kMaxWordBytes) {
            bpe_.encode_word(w, out);
            continue;
        }
        auto it = cache.words.find(w);
        if (it != cache.words.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            continue;
        }
        const size_t start = out.size();
        bpe_.encode_word(w, out);
        if (cache.words.size() >= WordCache::kMaxWords) cache.words.clear();
        cache.words.emplace(std::string(w),
                            std::vector<int32_t>(out.begin() + long(start), out.end()));
    }
}

std::vector<int32_t> Gpt2Tokenizer::encode(std::string_view text, const EncodeOptions& options,
                                           std::string_view what) const {
    std::string replaced;
    if (find_invalid_utf8(text)) {
        replaced = check_utf8(text, options.invalid_utf8, what);  // throws for the error policy
        text = replaced;
    }
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 4);
    if (!options.special_tokens || specials_.empty()) {
        encode_ordinary(text, out);
    } else {
        // Like HF's added-token trie: the earliest special token, the longest at that position.
        size_t pos = 0;
        while (pos < text.size()) {
            size_t best = std::string_view::npos, best_len = 0, best_k = 0;
            for (size_t k = 0; k < specials_.size(); ++k) {
                const size_t hit = text.find(specials_[k], pos);
                if (hit < best || (hit == best && hit != std::string_view::npos &&
                                   specials_[k].size() > best_len)) {
                    best = hit;
                    best_len = specials_[k].size();
                    best_k = k;
                }
            }
            if (best == std::string_view::npos) {
                encode_ordinary(text.substr(pos), out);
                break;
            }
            encode_ordinary(text.substr(pos, best - pos), out);
            out.push_back(special_ids_[best_k]);
            pos = best + best_len;
        }
    }
    if (options.max_length > 0 && out.size() > options.max_length) out.resize(options.max_length);
    return out;
}

std::string Gpt2Tokenizer::decode(std::span<const int32_t> ids,
                                  const DecodeOptions& options) const {
    std::string bytes;
    for (int32_t id : ids) {
        require(id >= 0 && size_t(id) < present_.size() && present_[size_t(id)],
                "decode: token id {} is not in the vocabulary ({} tokens)", id, n_tokens_);
        if (options.skip_special_tokens &&
            std::find(special_ids_.begin(), special_ids_.end(), id) != special_ids_.end())
            continue;
        bytes += token_bytes_[size_t(id)];
    }
    // A cut inside a multi-byte character decodes as U+FFFD, as Python's errors="replace".
    if (find_invalid_utf8(bytes)) bytes = replace_invalid_utf8(bytes);
    if (options.clean_up_spaces) {
        // transformers 4.31 PreTrainedTokenizerBase.clean_up_tokenization, in its order.
        for (auto [from, to] : {std::pair{" .", "."},
                                {" ?", "?"},
                                {" !", "!"},
                                {" ,", ","},
                                {" ' ", "'"},
                                {" n't", "n't"},
                                {" 'm", "'m"},
                                {" 's", "'s"},
                                {" 've", "'ve"},
                                {" 're", "'re"}})
            replace_all(bytes, from, to);
    }
    return bytes;
}

}  // namespace promptlens::text
