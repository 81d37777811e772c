// `promptlens demo`: the whole study on real labelled review sentences — npm `sentiment`'s
// fixtures (IMDB, Amazon and Yelp sentences, 0 = bad, 1 = good), which `make demo` installs —
// through GPT-2 from the HuggingFace cache when it is there, and otherwise through a small
// deterministic random-weight GPT-2 with the real tokenizer (said plainly in the output and the
// report). It writes the study file it runs (OUT/study.toml), so the demo is also the template for
// a user's own study, then runs it: OUT/report.html, OUT/figures/, OUT/metrics.csv.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "apps/commands.hpp"
#include "apps/common.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "model/hub_cache.hpp"
#include "study/study_runner.hpp"
#include "study/study_spec.hpp"

#ifndef PROMPTLENS_SOURCE_DIR
#define PROMPTLENS_SOURCE_DIR "."
#endif

namespace promptlens::cli {
namespace {
namespace fs = std::filesystem;

struct DemoOptions {
    std::string out = "out/demo";
    std::string data = "node_modules/sentiment/test/fixtures";
    std::string model = "gpt2";
    // GPT-2's vocab.json and merges.txt as kept in the repository (the tokenizer tests use them).
    std::string tokenizer = PROMPTLENS_SOURCE_DIR "/tests/data/gpt2";
    size_t sample = 0;
    bool fast = false;
    uint64_t seed = 0;
    int threads = 0;
};

// The sentiment fixtures as one JSON Lines file with good/bad labels and the corpus as source.
fs::path sentences_from_fixtures(const fs::path& dir, const fs::path& out) {
    std::string lines;
    size_t rows = 0;
    for (const char* corpus : {"imdb", "amazon", "yelp"}) {
        const fs::path f = dir / (std::string(corpus) + ".json");
        if (!fs::exists(f)) continue;
        std::ifstream in(f);
        nlohmann::json a;
        try {
            a = nlohmann::json::parse(in);
        } catch (const nlohmann::json::exception& e) {
            fail("{}: not JSON: {}", f.string(), e.what());
        }
        require(a.is_array(), "{}: expected a JSON array of {{\"text\", \"class\"}} objects",
                f.string());
        for (size_t i = 0; i < a.size(); ++i) {
            const auto& r = a[i];
            // Each fixture ends with an empty placeholder item ({"text": "", "class": null}).
            if (r.is_object() && r.value("text", nlohmann::json("x")) == "" &&
                r.contains("class") && r["class"].is_null()) {
                continue;
            }
            require(r.is_object() && r.contains("text") && r["text"].is_string() &&
                        r.contains("class") && r["class"].is_number_integer(),
                    "{}: item {}: expected {{\"text\": string, \"class\": 0 or 1}}", f.string(), i);
            const nlohmann::json row = {{"text", r["text"]},
                                        {"label", r["class"].get<int>() == 1 ? "good" : "bad"},
                                        {"corpus", corpus}};
            lines += row.dump() + "\n";
            ++rows;
        }
    }
    require(rows > 0,
            "{}: no sentiment fixtures (imdb.json, amazon.json, yelp.json) there; `make demo` "
            "installs them (npm package sentiment), or pass --data with a labelled dataset",
            dir.string());
    write_text_file(out, lines);
    return out;
}

std::string toml_string(const std::string& s) {
    return nlohmann::json(s).dump();  // a JSON string is a valid TOML basic string
}

void run_demo(const DemoOptions& o) {
    const fs::path out = fs::absolute(o.out);
    fs::create_directories(out / "data");
    const fs::path data = fs::is_directory(o.data)
                              ? sentences_from_fixtures(o.data, out / "data" / "sentences.jsonl")
                              : fs::absolute(o.data);
    require(fs::exists(data), "--data {}: no such file or folder", o.data);

    std::string model_table;
    bool real = false;
    try {
        const fs::path dir = resolve_model_dir(o.model);
        model_table = fmt::format("[model]\npath = {}\n", toml_string(dir.string()));
        real = true;
    } catch (const Error& e) {
        fmt::print(stderr,
                   "demo: no GPT-2 weights found ({}).\ndemo: using a small RANDOM-weight GPT-2 "
                   "with the real tokenizer instead: the pictures show the pipeline, not what "
                   "GPT-2 knows.\n",
                   e.what());
        model_table = fmt::format(
            "[model.random]   # no real weights found: numbers describe no language model\n"
            "layers = 2\nheads = 4\nembd = 128\nseed = {}\ntokenizer = {}\n",
            o.seed, toml_string(fs::absolute(o.tokenizer).string()));
    }
    const std::string study = fmt::format(
        R"(# Written by `promptlens demo`: the seed notebook's study on npm sentiment's review
# sentences. Edit and rerun with `promptlens run {0}`; unchanged steps are reused.
title = "promptlens demo: review sentences"   # the figures add " · model ..."
out = "."
seed = {1}

{2}
[data]
path = {3}
label_column = "label"
sample = {4}
max_length = 128

[text_prompts]
summary = " All in all, it was"
question = " Was it good or bad? It was"

[extract]
outputs = ["hidden", "logits"]
logits_tokens = ["good", "bad"]
label_tokens = {{ good = "good", bad = "bad" }}

[analysis]
scalings = ["raw", "scaled"]

[methods.pca]
[methods.tsne]
perplexity = 30
{5}
[methods.umap]
n_neighbors = 15
{6}
[methods.kmeans]
clusters = [2, 8]
)",
        (out / "study.toml").string(), o.seed, model_table, toml_string(data.string()), o.sample,
        o.fast ? "iterations = 500\n" : "", o.fast ? "epochs = 50\n" : "");
    write_text_file(out / "study.toml", study);
    const StudySpec spec = read_study(out / "study.toml");
    StudyRunOptions ro;
    ro.threads = o.threads;
    const StudyRunSummary r = run_study(spec, ro);
    fmt::print("demo: {} review sentences through {}; {} panels ({} reused) in {:.1f} s\n", r.rows,
               real ? r.model : "a RANDOM-weight GPT-2 (no real weights found)", r.panels,
               r.panels_reused, r.seconds);
    fmt::print(
        "demo: report {}\ndemo: figures {}\ndemo: study file {} (edit and `promptlens run` it)\n",
        r.report.string(), (out / "figures").string(), (out / "study.toml").string());
}

}  // namespace

void setup_demo(CLI::App& app) {
    auto o = std::make_shared<DemoOptions>();
    auto* sub = app.add_subcommand(
        "demo",
        "The seed's study on real review sentences (npm sentiment's IMDB/Amazon/Yelp fixtures): "
        "GPT-2 from the HuggingFace cache, or a random-weight GPT-2 when there is none; writes "
        "OUT/report.html, OUT/figures/ and the study file it ran");
    sub->add_option("--out", o->out, "Output directory")->capture_default_str();
    sub->add_option("--data", o->data,
                    "sentiment's test/fixtures folder, or any labelled dataset with a 'label' "
                    "column/field (good/bad)")
        ->capture_default_str();
    sub->add_option("--model", o->model, "GPT-2 folder or hub name (looked up in the HF cache)")
        ->capture_default_str();
    sub->add_option("--tokenizer", o->tokenizer,
                    "GPT-2 tokenizer files for the random-weight fallback")
        ->capture_default_str();
    sub->add_option("--sample", o->sample, "Use a seeded stratified sample of N rows (0 = all)")
        ->capture_default_str();
    sub->add_flag("--fast", o->fast, "Fewer t-SNE iterations and UMAP epochs (tests)");
    add_seed_option(sub, o->seed);
    add_threads_option(sub, o->threads);
    sub->callback([o] { run_demo(*o); });
}

}  // namespace promptlens::cli
