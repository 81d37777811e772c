// `promptlens extract`: labelled texts + GPT-2 + one or more prompts → per-row hidden states and
// logits as .npy files (rows in dataset order), labels.txt, rows.jsonl, meta.json and the
// label-token accuracy the seed measures ("does the logit of good beat bad's?"). The pipeline is
// extract/extractor.hpp; this file turns flags into its inputs (model, tokenizer, dataset,
// prompts, tokens) and prints the summary.
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>

#include "apps/commands.hpp"
#include "apps/common.hpp"
#include "core/error.hpp"
#include "extract/extractor.hpp"
#include "extract/load_dataset.hpp"
#include "model/gpt2_cpu.hpp"
#include "model/gpt2_weights.hpp"
#include "model/soft_prompt.hpp"
#include "model/text_prompt.hpp"
#include "text/gpt2_tokenizer.hpp"

namespace promptlens::cli {
namespace {

struct ExtractFlags {
    std::string model, tokenizer, data, out;
    std::string format = "auto", subdir, label_folders, text_column = "text",
                label_column = "label", labels_file, invalid_utf8 = "error";
    bool no_labels = false;
    std::vector<std::string> prompts, text_prompts;
    std::string outputs, logits_tokens, label_tokens, positions = "exact";
    bool logits_full = false, overwrite = false;
    size_t max_length = 1000, batch_size = 32, chunk_tokens = 4096;
    double checkpoint_seconds = 2.0;
    int threads = 1;
};

std::pair<std::string, std::string> split_name(const std::string& spec, const std::string& flag) {
    const size_t eq = spec.find('=');
    require(eq != std::string::npos && eq > 0 && eq + 1 < spec.size(),
            "{} '{}': expected NAME=VALUE", flag, spec);
    return {spec.substr(0, eq), spec.substr(eq + 1)};
}

// A token given on the command line: a vocab.json token ("good", "Ġgood"), a text that is one
// token (" good"), or "id:N".
NamedToken resolve_token(const text::Gpt2Tokenizer& tok, const std::string& spec,
                         const std::string& flag) {
    if (spec.rfind("id:", 0) == 0) {
        char* end = nullptr;
        const long v = std::strtol(spec.c_str() + 3, &end, 10);
        require(end != spec.c_str() + 3 && *end == '\0' && v >= 0 &&
                    static_cast<size_t>(v) < tok.vocab_size(),
                "{}: '{}' is not an id below the vocabulary size {}", flag, spec, tok.vocab_size());
        return {spec, static_cast<int32_t>(v)};
    }
    if (auto id = tok.token_id(spec)) return {spec, *id};
    const auto ids = tok.encode(spec, {}, flag);
    require(ids.size() == 1,
            "{}: '{}' is not one token (it encodes to {} tokens); give a token as vocab.json "
            "spells it (e.g. 'Ġgood' for ' good') or id:N",
            flag, spec, ids.size());
    return {spec, ids[0]};
}

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= s.size()) {
        size_t end = s.find(',', pos);
        if (end == std::string::npos) end = s.size();
        out.push_back(s.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

void run_extract_command(const ExtractFlags& f) {
    require(!(f.logits_full && !f.logits_tokens.empty()),
            "extract: give --logits-tokens or --logits-full, not both");
    require(!f.prompts.empty() || !f.text_prompts.empty(),
            "extract: give at least one --prompt NAME=FILE or --text-prompt NAME=TEXT");
    check_output_paths({f.out + "/meta.json"});

    // Dataset first: its errors are the most likely and the cheapest to find.
    DatasetOptions dopt;
    dopt.format = f.format;
    dopt.text_column = f.text_column;
    dopt.label_column = f.no_labels ? "" : f.label_column;
    dopt.labels_file = f.labels_file;
    dopt.subdir = f.subdir;
    if (!f.label_folders.empty())
        dopt.label_folders = parse_name_pairs(f.label_folders, "--label-folders");
    dopt.invalid_utf8 = text::parse_invalid_utf8(f.invalid_utf8);
    const TextDataset ds = load_text_dataset(f.data, dopt);

    const auto tok = text::Gpt2Tokenizer::load(f.tokenizer.empty() ? f.model : f.tokenizer);
    const Gpt2Weights w = load_gpt2_model(f.model);
    require(tok.vocab_size() <= w.config.vocab_size,
            "the tokenizer has {} tokens but the model's vocabulary has {}", tok.vocab_size(),
            w.config.vocab_size);

    ExtractInputs in;
    for (const auto& spec : f.prompts) {
        auto [name, file] = split_name(spec, "--prompt");
        in.prompts.push_back({name, file, load_soft_prompt(file, w.config.n_embd)});
    }
    for (const auto& spec : f.text_prompts) {
        auto [name, t] = split_name(spec, "--text-prompt");
        const auto ids = tok.encode(t, {}, "--text-prompt " + name);
        in.prompts.push_back({name, "text: " + t, text_prompt_embeddings(w, ids, name)});
    }

    ExtractOptions o;
    o.positions = parse_position_mode(f.positions);
    o.batch_size = f.batch_size;
    o.chunk_tokens = f.chunk_tokens;
    o.checkpoint_seconds = f.checkpoint_seconds;
    o.overwrite = f.overwrite;
    if (const char* a = std::getenv("PROMPTLENS_TEST_ABORT_AFTER_CHUNKS")) {
        o.abort_after_chunks = std::strtoul(a, nullptr, 10);
    }
    // Label tokens: given, or by default each class whose name is a vocabulary token ("good").
    if (!f.label_tokens.empty()) {
        for (const auto& [label, t] : parse_name_pairs(f.label_tokens, "--label-tokens")) {
            o.label_tokens.push_back({label, resolve_token(tok, t, "--label-tokens")});
        }
    } else if (ds.has_labels) {
        std::set<std::string> classes;
        for (const auto& r : ds.rows) classes.insert(r.label);
        bool all = classes.size() >= 2;
        for (const auto& c : classes) all = all && tok.token_id(c).has_value();
        if (all) {
            // In the dataset's order of first appearance (the seed's good, bad).
            std::set<std::string> seen;
            for (const auto& r : ds.rows) {
                if (seen.insert(r.label).second) {
                    o.label_tokens.push_back({r.label, {r.label, *tok.token_id(r.label)}});
                }
            }
        } else {
            std::fprintf(stderr,
                         "extract: note: the labels are not all vocabulary tokens; give "
                         "--label-tokens LABEL=TOKEN,... for label-token accuracy\n");
        }
    }
    // Outputs and logits columns.
    std::set<std::string> outputs;
    for (const auto& s : split_list(f.outputs.empty() ? "hidden,logits" : f.outputs)) {
        require(s == "hidden" || s == "logits", "--outputs: unknown output '{}' (hidden, logits)",
                s);
        outputs.insert(s);
    }
    o.hidden = outputs.count("hidden") > 0;
    if (outputs.count("logits")) {
        if (f.logits_full) {
            o.logits = LogitsRequest::full;
        } else if (!f.logits_tokens.empty()) {
            o.logits = LogitsRequest::selected;
            for (const auto& t : split_list(f.logits_tokens)) {
                o.logit_tokens.push_back(resolve_token(tok, t, "--logits-tokens"));
            }
        } else if (!o.label_tokens.empty()) {
            o.logits = LogitsRequest::selected;
            for (const auto& lt : o.label_tokens) o.logit_tokens.push_back(lt.token);
        } else {
            require(f.outputs.empty(),
                    "--outputs logits: say which with --logits-tokens T1,T2 or --logits-full");
        }
    } else {
        require(!f.logits_full && f.logits_tokens.empty(),
                "--logits-tokens/--logits-full given but --outputs has no 'logits'");
    }

    const TokenizedRows rows = tokenize_rows(tok, ds, f.max_length, f.threads);
    Gpt2CpuBackend backend(w, Gpt2CpuOptions{f.threads});
    in.backend = &backend;
    in.config = w.config;
    in.dataset = &ds;
    in.rows = &rows;
    in.max_length = f.max_length;
    in.model_path = f.model;
    in.model_hash = gpt2_weights_hash(w);
    in.tokenizer_source = tok.source();
    in.data_path = f.data;

    const ExtractResult r = run_extract(in, o, f.out);
    if (r.already_complete) {
        fmt::print("extract: {} already holds this extraction (identity {}); nothing to do\n",
                   f.out, r.identity);
    } else {
        size_t truncated = 0;
        for (size_t i = 0; i < rows.full_lengths.size(); ++i) {
            truncated += rows.full_lengths[i] > rows.tokens.length(i);
        }
        fmt::print(
            "extract: {} texts ({} truncated to {} tokens), {} tokens, {} prompt(s), {} chunks{} "
            "in {:.2f} s ({:.1f} texts/s, {:.0f} tokens/s; tokenizing {:.2f} s) -> {}\n",
            r.rows, truncated, f.max_length, r.tokens, in.prompts.size(), r.chunks,
            r.chunks_resumed ? fmt::format(" ({} resumed)", r.chunks_resumed) : "", r.seconds,
            r.seconds > 0 ? double(r.rows) / r.seconds : 0.0,
            r.seconds > 0 ? double(r.tokens) / r.seconds : 0.0, rows.seconds, f.out);
    }
    fmt::print("{}", format_accuracy(r.accuracy));
}

}  // namespace

void setup_extract(CLI::App& app) {
    auto f = std::make_shared<ExtractFlags>();
    auto* sub = app.add_subcommand(
        "extract",
        "Run labelled texts through GPT-2 with prompts; write hidden states and logits (.npy)");
    sub->add_option("--model", f->model, "GPT-2 model folder (config.json + model.safetensors)")
        ->required();
    sub->add_option("--tokenizer", f->tokenizer,
                    "Folder with vocab.json + merges.txt or tokenizer.json (default: --model)");
    sub->add_option("--data", f->data,
                    "Dataset: a folder of label sub-folders (IMDB pos/ neg/), a .tar.gz of one, "
                    ".csv, .tsv, .jsonl, .json (array of objects) or .txt (one text a line)")
        ->required();
    sub->add_option("--format", f->format, "Dataset format when the name does not tell")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "folders", "tar", "csv", "tsv", "jsonl", "json", "lines"}));
    sub->add_option("--subdir", f->subdir,
                    "Folder inside --data holding the label folders (e.g. aclImdb/test)");
    sub->add_option("--label-folders", f->label_folders,
                    "Label folders in order with their labels (default: pos=good,neg=bad when "
                    "both exist, else every sub-folder, sorted)");
    sub->add_option("--text-column", f->text_column, "CSV/TSV column or JSON field of the text")
        ->capture_default_str();
    sub->add_option("--label-column", f->label_column, "CSV/TSV column or JSON field of the label")
        ->capture_default_str();
    sub->add_flag("--no-labels", f->no_labels, "The dataset has no labels");
    sub->add_option("--labels", f->labels_file, "Labels of a .txt dataset, one a line");
    sub->add_option("--invalid-utf8", f->invalid_utf8,
                    "Bytes that are not UTF-8: 'error' (names the row and offset) or 'replace'")
        ->capture_default_str()
        ->check(CLI::IsMember({"error", "replace"}));
    sub->add_option("--prompt", f->prompts,
                    "NAME=FILE: a trained soft prompt (.npy, .safetensors, .pt); repeatable");
    sub->add_option("--text-prompt", f->text_prompts,
                    "NAME=TEXT: a prompt written as text (its tokens' embeddings); repeatable");
    sub->add_option("--out", f->out, "Output folder")->required();
    sub->add_option("--outputs", f->outputs,
                    "What to write per prompt: hidden, logits or hidden,logits (default "
                    "hidden,logits; logits only when their tokens are known)");
    auto* lt = sub->add_option("--logits-tokens", f->logits_tokens,
                               "Logits columns: tokens as vocab.json spells them, or id:N, "
                               "comma-separated (default: the label tokens)");
    sub->add_flag("--logits-full", f->logits_full, "All vocabulary logits (N×V, streamed to disk)")
        ->excludes(lt);
    sub->add_option("--label-tokens", f->label_tokens,
                    "LABEL=TOKEN,...: the token whose logit votes for each label (default: each "
                    "label's own token, e.g. good=good,bad=bad)");
    sub->add_option("--max-length", f->max_length,
                    "Keep at most this many tokens of each text, dropping the end (0 = all)")
        ->capture_default_str();
    sub->add_option("--positions", f->positions,
                    "Prompt positions: 'exact' (after each text) or 'hf-padded' (the seed's "
                    "batched HuggingFace numbers: after the padded length of its batch)")
        ->capture_default_str()
        ->check(CLI::IsMember({"exact", "hf-padded"}));
    sub->add_option("--batch-size", f->batch_size,
                    "The seed's batch size (only --positions hf-padded depends on it)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    sub->add_option("--chunk-tokens", f->chunk_tokens,
                    "Tokens per packed forward pass (memory vs. speed; changes the last bits)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    sub->add_option("--checkpoint-seconds", f->checkpoint_seconds,
                    "Sync outputs and journal finished chunks at most this often (0 = every "
                    "chunk); a killed run resumes from the last checkpoint")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    sub->add_flag("--overwrite", f->overwrite,
                  "Replace the outputs of another extraction in --out instead of refusing");
    add_threads_option(sub, f->threads);
    sub->callback([f] { run_extract_command(*f); });
}

}  // namespace promptlens::cli
