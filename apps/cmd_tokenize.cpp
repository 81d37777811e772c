// `promptlens tokenize`: GPT-2's tokenizer (byte-exact with HuggingFace's GPT2Tokenizer) on a text,
// a file, or JSON Lines. For one text it prints the ids and the tokens as JSON arrays; with
// --jsonl each input object (one per line, with a "text" field) is written back, keys in their
// order, with an added "ids" array, so scripts can tokenise a corpus once and check it.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "apps/commands.hpp"
#include "core/error.hpp"
#include "model/hub_cache.hpp"
#include "text/gpt2_tokenizer.hpp"

namespace promptlens::cli {
namespace {

struct TokenizeOptions {
    std::string model, text, file, invalid_utf8 = "error";
    bool jsonl = false, no_special = false, stats = false;
    size_t max_length = 0;
};

std::string read_all(std::istream& in, const std::string& name) {
    std::string s{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    require(!in.bad(), "{}: read failed", name);
    return s;
}

void run_tokenize(const TokenizeOptions& o, bool text_given) {
    require(!(text_given && !o.file.empty()), "tokenize: give TEXT or --file, not both");
    require(!(text_given && o.jsonl), "tokenize: --jsonl reads --file or standard input, not TEXT");
    const auto tok = text::Gpt2Tokenizer::load(resolve_model_dir(o.model));
    text::EncodeOptions eo;
    eo.max_length = o.max_length;
    eo.special_tokens = !o.no_special;
    eo.invalid_utf8 = text::parse_invalid_utf8(o.invalid_utf8);

    std::ifstream file;
    if (!o.file.empty()) {
        file.open(o.file, std::ios::binary);
        require(file.good(), "{}: cannot open it", o.file);
    }
    std::istream& in = o.file.empty() ? std::cin : file;
    const std::string name = o.file.empty() ? "standard input" : o.file;
    const auto start = std::chrono::steady_clock::now();
    size_t n_texts = 0, n_bytes = 0, n_tokens = 0;

    if (!o.jsonl) {
        const std::string t = text_given ? o.text : read_all(in, name);
        const auto ids = tok.encode(t, eo, text_given ? "TEXT" : name);
        nlohmann::json tokens = nlohmann::json::array();
        for (int32_t id : ids) tokens.push_back(tok.token(id));
        fmt::print("ids: {}\ntokens: {}\n", nlohmann::json(ids).dump(), tokens.dump());
        n_texts = 1;
        n_bytes = t.size();
        n_tokens = ids.size();
    } else {
        std::string line, out;
        for (size_t line_no = 1; std::getline(in, line); ++line_no) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.find_first_not_of(" \t") == std::string::npos) continue;
            const std::string where = fmt::format("{} line {}", name, line_no);
            // Check (or replace) bad bytes before the JSON reader sees them, to name the offset.
            line = text::check_utf8(line, eo.invalid_utf8, where);
            nlohmann::ordered_json j;
            try {
                j = nlohmann::ordered_json::parse(line);
            } catch (const nlohmann::json::parse_error& e) {
                fail("{}: not valid JSON ({})", where, e.what());
            }
            require(j.is_object() && j.contains("text") && j["text"].is_string(),
                    "{}: expected a JSON object with a string \"text\" field", where);
            const auto& t = j["text"].get_ref<const std::string&>();
            auto ids = tok.encode(t, eo, where);
            n_texts += 1;
            n_bytes += t.size();
            n_tokens += ids.size();
            j["ids"] = std::move(ids);
            out += j.dump();
            out += '\n';
            if (out.size() > (1 << 20)) {
                std::fwrite(out.data(), 1, out.size(), stdout);
                out.clear();
            }
        }
        require(!in.bad(), "{}: read failed", name);
        std::fwrite(out.data(), 1, out.size(), stdout);
    }
    std::fflush(stdout);
    if (o.stats) {
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fprintf(stderr,
                     "tokenize: %zu texts, %zu bytes, %zu tokens in %.3f s (%.1f MB/s, %.0f "
                     "tokens/s, including reading and writing)\n",
                     n_texts, n_bytes, n_tokens, s, double(n_bytes) / s / 1e6,
                     double(n_tokens) / s);
    }
}

}  // namespace

void setup_tokenize(CLI::App& app) {
    auto o = std::make_shared<TokenizeOptions>();
    auto* sub = app.add_subcommand(
        "tokenize", "GPT-2 token ids of a text, a file or JSON Lines (as HuggingFace's tokenizer)");
    sub->add_option("--model", o->model,
                    "Model folder with vocab.json + merges.txt (or tokenizer.json), or a hub name "
                    "such as gpt2 "
                    "found in the HuggingFace cache ($HF_HOME, ~/.cache/huggingface/hub)")
        ->required();
    auto* text_opt = sub->add_option("text", o->text, "The text (else --file or standard input)");
    sub->add_option("--file", o->file,
                    "Read the text (or, with --jsonl, the lines) from this file");
    sub->add_flag("--jsonl", o->jsonl,
                  "Input is JSON Lines with a \"text\" field; each object is written back with an "
                  "added \"ids\" array");
    sub->add_option("--max-length", o->max_length,
                    "Keep at most this many ids, dropping the end (0 = all)")
        ->capture_default_str();
    sub->add_option("--invalid-utf8", o->invalid_utf8,
                    "Bytes that are not UTF-8: 'error' (names the offset) or 'replace' (U+FFFD, "
                    "as Python's errors='replace')")
        ->capture_default_str()
        ->check(CLI::IsMember({"error", "replace"}));
    sub->add_flag("--no-special", o->no_special,
                  "Treat <|endoftext|> in the text as plain text, not as its special id");
    sub->add_flag("--stats", o->stats, "Print texts, tokens and throughput on standard error");
    sub->callback([o, text_opt] { run_tokenize(*o, text_opt->count() > 0); });
}

}  // namespace promptlens::cli
