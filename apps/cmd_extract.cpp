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
#include "apps/text_inputs.hpp"
#include "core/error.hpp"
#include "extract/extract_job.hpp"
#include "model/gpt2_cpu_gemm.hpp"

namespace promptlens::cli {
namespace {

struct ExtractFlags {
    ModelFlags model;
    DatasetFlags dataset;
    std::string data, out;
    std::vector<std::string> prompts, text_prompts;
    std::string outputs, logits_tokens, label_tokens, positions = "exact";
    bool logits_full = false, overwrite = false;
    size_t max_length = 1000, batch_size = 32, chunk_tokens = 4096;
    double checkpoint_seconds = 2.0;
    std::string precision = "fp32";
    int threads = 1;
};

std::pair<std::string, std::string> split_name(const std::string& spec, const std::string& flag) {
    const size_t eq = spec.find('=');
    require(eq != std::string::npos && eq > 0 && eq + 1 < spec.size(),
            "{} '{}': expected NAME=VALUE", flag, spec);
    return {spec.substr(0, eq), spec.substr(eq + 1)};
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

ExtractJob job_of(const ExtractFlags& f) {
    ExtractJob job;
    job.model = model_folder(f.model.model, f.model.download).string();
    job.tokenizer = f.model.tokenizer;
    job.data = f.data;
    job.dataset = dataset_options(f.dataset);
    for (const auto& spec : f.prompts) job.prompt_files.push_back(split_name(spec, "--prompt"));
    for (const auto& spec : f.text_prompts) {
        job.text_prompts.push_back(split_name(spec, "--text-prompt"));
    }
    if (!f.label_tokens.empty()) {
        job.label_tokens = parse_name_pairs(f.label_tokens, "--label-tokens");
    }
    std::set<std::string> outputs;
    for (const auto& s : split_list(f.outputs.empty() ? "hidden,logits" : f.outputs)) {
        require(s == "hidden" || s == "logits", "--outputs: unknown output '{}' (hidden, logits)",
                s);
        outputs.insert(s);
    }
    job.hidden = outputs.count("hidden") > 0;
    job.logits = outputs.count("logits") > 0;
    if (!job.logits) {
        require(!f.logits_full && f.logits_tokens.empty(),
                "--logits-tokens/--logits-full given but --outputs has no 'logits'");
    }
    // Without --outputs, logits are written only when their columns are known.
    job.logits_optional = f.outputs.empty();
    job.logits_full = f.logits_full;
    if (!f.logits_tokens.empty()) job.logits_tokens = split_list(f.logits_tokens);
    job.max_length = f.max_length;
    job.threads = f.threads;
    job.precision = parse_precision(f.precision);
    job.options.positions = parse_position_mode(f.positions);
    job.options.batch_size = f.batch_size;
    job.options.chunk_tokens = f.chunk_tokens;
    job.options.checkpoint_seconds = f.checkpoint_seconds;
    job.options.overwrite = f.overwrite;
    if (const char* a = std::getenv("PROMPTLENS_TEST_ABORT_AFTER_CHUNKS")) {
        job.options.abort_after_chunks = std::strtoul(a, nullptr, 10);
    }
    return job;
}

void run_extract_command(const ExtractFlags& f) {
    check_output_paths({f.out + "/meta.json"});
    const ExtractJobResult j = run_extract_job(job_of(f), f.out);
    const ExtractResult& r = j.result;
    if (r.already_complete) {
        fmt::print("extract: {} already holds this extraction (identity {}); nothing to do\n",
                   f.out, r.identity);
    } else {
        fmt::print(
            "extract: {} texts ({} truncated to {} tokens), {} tokens, {} prompt(s), {} chunks{} "
            "in {:.2f} s ({:.1f} texts/s, {:.0f} tokens/s; tokenizing {:.2f} s) -> {}\n",
            r.rows, j.truncated, f.max_length, r.tokens, j.prompt_names.size(), r.chunks,
            r.chunks_resumed ? fmt::format(" ({} resumed)", r.chunks_resumed) : "", r.seconds,
            r.seconds > 0 ? double(r.rows) / r.seconds : 0.0,
            r.seconds > 0 ? double(r.tokens) / r.seconds : 0.0, j.tokenize_seconds, f.out);
    }
    fmt::print("{}", format_accuracy(r.accuracy));
}

}  // namespace

void setup_extract(CLI::App& app) {
    auto f = std::make_shared<ExtractFlags>();
    auto* sub = app.add_subcommand(
        "extract",
        "Run labelled texts through GPT-2 with prompts; write hidden states and logits (.npy)");
    add_model_options(sub, f->model);
    sub->add_option("--data", f->data,
                    "Dataset: a folder of label sub-folders (IMDB pos/ neg/), a .tar.gz of one, "
                    ".csv, .tsv, .jsonl, .json (array of objects) or .txt (one text a line)")
        ->required();
    add_dataset_options(sub, f->dataset, true);
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
        ->check(kPositive);
    sub->add_option("--chunk-tokens", f->chunk_tokens,
                    "Tokens per packed forward pass (memory vs. speed; changes the last bits)")
        ->capture_default_str()
        ->check(kPositive);
    sub->add_option("--checkpoint-seconds", f->checkpoint_seconds,
                    "Sync outputs and journal finished chunks at most this often (0 = every "
                    "chunk); a killed run resumes from the last checkpoint")
        ->capture_default_str()
        ->check(kNonNegative);
    sub->add_flag("--overwrite", f->overwrite,
                  "Replace the outputs of another extraction in --out instead of refusing");
    sub->add_option("--precision", f->precision,
                    "fp32 (exact to HuggingFace) or bf16 (about 2x faster linear layers on CPUs "
                    "with AVX-512 BF16, the same speed elsewhere; ~1e-2 relative error)")
        ->capture_default_str()
        ->check(CLI::IsMember({"fp32", "bf16"}));
    add_threads_option(sub, f->threads);
    sub->callback([f] { run_extract_command(*f); });
}

}  // namespace promptlens::cli
