// promptlens side of bench/bench_tokenizer.sh: encodes every `text` of a JSON Lines file one by
// one with the GPT-2 tokenizer, checks the ids against the file's `ids` (HuggingFace's), and
// prints one JSON object with the best-of-N time.
//
//   promptlens_bench_tokenizer MODEL_DIR FILE.jsonl [--repeats 5]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "text/gpt2_tokenizer.hpp"
#include "timing.hpp"

using namespace promptlens;
using promptlens::bench::best_of;
using promptlens::text::Gpt2Tokenizer;

int main(int argc, char** argv) {
    CLI::App app{"Times the GPT-2 tokenizer (see bench/bench_tokenizer.sh)"};
    std::string model, file;
    int repeats = 5;
    app.add_option("model", model)->required();
    app.add_option("file", file)->required();
    app.add_option("--repeats", repeats);
    CLI11_PARSE(app, argc, argv);
    try {
        Gpt2Tokenizer tok = Gpt2Tokenizer::load(model);
        std::vector<std::string> texts;
        std::vector<std::vector<int32_t>> golden;
        std::ifstream in(file);
        require(in.good(), "{}: cannot open", file);
        size_t bytes = 0;
        for (std::string line; std::getline(in, line);) {
            if (line.empty()) continue;
            auto j = nlohmann::json::parse(line);
            texts.push_back(j.at("text").get<std::string>());
            golden.push_back(j.at("ids").get<std::vector<int32_t>>());
            bytes += texts.back().size();
        }
        size_t tokens = 0;
        for (size_t i = 0; i < texts.size(); ++i) {
            auto ids = tok.encode(texts[i]);
            require(ids == golden[i], "{}: line {}: ids differ from the reference", file, i + 1);
            tokens += ids.size();
        }
        size_t sink = 0;
        const double best = best_of(repeats, [&] {
            for (const auto& text : texts) sink += tok.encode(text).size();
        });
        require(sink == tokens * static_cast<size_t>(repeats), "token count changed between runs");
        nlohmann::ordered_json out;
        out["peer"] = std::string("promptlens ") + PROMPTLENS_VERSION;
        out["texts"] = texts.size();
        out["bytes"] = bytes;
        out["tokens"] = tokens;
        out["seconds"] = best;
        std::puts(out.dump().c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "promptlens_bench_tokenizer: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
