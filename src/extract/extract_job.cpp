#include "extract/extract_job.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numeric>
#include <set>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "model/gpt2_cpu.hpp"
#include "model/gpt2_weights.hpp"
#include "model/soft_prompt.hpp"
#include "model/text_prompt.hpp"
#include "text/gpt2_tokenizer.hpp"

namespace promptlens {

NamedToken resolve_token(const text::Gpt2Tokenizer& tok, const std::string& spec,
                         const std::string& what) {
    if (spec.rfind("id:", 0) == 0) {
        char* end = nullptr;
        const long v = std::strtol(spec.c_str() + 3, &end, 10);
        require(end != spec.c_str() + 3 && *end == '\0' && v >= 0 &&
                    static_cast<size_t>(v) < tok.vocab_size(),
                "{}: '{}' is not an id below the vocabulary size {}", what, spec, tok.vocab_size());
        return {spec, static_cast<int32_t>(v)};
    }
    if (auto id = tok.token_id(spec)) return {spec, *id};
    const auto ids = tok.encode(spec, {}, what);
    require(ids.size() == 1,
            "{}: '{}' is not one token (it encodes to {} tokens); give a token as vocab.json "
            "spells it (e.g. 'Ġgood' for ' good') or id:N",
            what, spec, ids.size());
    return {spec, ids[0]};
}

std::vector<size_t> stratified_sample(const TextDataset& ds, size_t n, uint64_t seed) {
    const size_t total = ds.rows.size();
    std::vector<size_t> all(total);
    std::iota(all.begin(), all.end(), size_t{0});
    if (n == 0 || n >= total) return all;
    std::map<std::string, std::vector<size_t>> by_label;
    for (size_t i = 0; i < total; ++i) by_label[ds.rows[i].label].push_back(i);
    // Quotas by largest remainder, ties to the label that sorts first.
    struct Share {
        std::string label;
        size_t quota;
        double remainder;
    };
    std::vector<Share> shares;
    size_t given = 0;
    for (const auto& [label, rows] : by_label) {
        const double exact =
            static_cast<double>(n) * static_cast<double>(rows.size()) / static_cast<double>(total);
        shares.push_back({label, static_cast<size_t>(exact), exact - std::floor(exact)});
        given += shares.back().quota;
    }
    std::vector<size_t> order(shares.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return shares[a].remainder > shares[b].remainder; });
    for (size_t i = 0; given < n; i = (i + 1) % order.size(), ++given) ++shares[order[i]].quota;
    std::vector<size_t> kept;
    Rng rng(seed, 0x5A3);
    for (const Share& s : shares) {
        std::vector<size_t> rows = by_label[s.label];
        for (size_t i = 0; i < s.quota; ++i) {  // partial Fisher-Yates
            std::swap(rows[i], rows[i + rng.below(rows.size() - i)]);
            kept.push_back(rows[i]);
        }
    }
    std::sort(kept.begin(), kept.end());
    return kept;
}

std::vector<LabelToken> resolve_label_tokens(
    const text::Gpt2Tokenizer& tok, const TextDataset& ds,
    const std::vector<std::pair<std::string, std::string>>& given) {
    std::vector<LabelToken> out;
    if (!given.empty()) {
        for (const auto& [label, t] : given) {
            out.push_back({label, resolve_token(tok, t, "label token of " + label)});
        }
        return out;
    }
    if (!ds.has_labels) return out;
    std::set<std::string> classes;
    for (const auto& r : ds.rows) classes.insert(r.label);
    bool all = classes.size() >= 2;
    for (const auto& c : classes) all = all && tok.token_id(c).has_value();
    if (!all) return out;
    // In the dataset's order of first appearance (the seed's good, bad).
    std::set<std::string> seen;
    for (const auto& r : ds.rows) {
        if (seen.insert(r.label).second)
            out.push_back({r.label, {r.label, *tok.token_id(r.label)}});
    }
    return out;
}

ExtractJobResult run_extract_job(const ExtractJob& job, const std::string& out_dir) {
    require(!job.prompt_files.empty() || !job.text_prompts.empty(),
            "extract: give at least one --prompt NAME=FILE or --text-prompt NAME=TEXT");
    require(!(job.logits_full && !job.logits_tokens.empty()),
            "extract: give --logits-tokens or --logits-full, not both");
    require(job.hidden || job.logits, "extract: no outputs: ask for hidden and/or logits");

    ExtractJobResult out;
    // Dataset first: its errors are the most likely and the cheapest to find.
    out.dataset = load_text_dataset(job.data, job.dataset);
    if (job.sample > 0 && job.sample < out.dataset.rows.size()) {
        std::vector<TextRow> rows;
        for (size_t i : stratified_sample(out.dataset, job.sample, job.sample_seed)) {
            rows.push_back(std::move(out.dataset.rows[i]));
        }
        out.dataset.rows = std::move(rows);
    }
    const TextDataset& ds = out.dataset;

    const auto tok = text::Gpt2Tokenizer::load(job.tokenizer.empty() ? job.model : job.tokenizer);
    const Gpt2Weights w = load_gpt2_model(job.model);
    require(tok.vocab_size() <= w.config.vocab_size,
            "the tokenizer has {} tokens but the model's vocabulary has {}", tok.vocab_size(),
            w.config.vocab_size);

    ExtractInputs in;
    for (const auto& [name, file] : job.prompt_files) {
        in.prompts.push_back({name, file, load_soft_prompt(file, w.config.n_embd)});
    }
    for (const auto& [name, t] : job.text_prompts) {
        const auto ids = tok.encode(t, {}, "text prompt " + name);
        in.prompts.push_back({name, "text: " + t, text_prompt_embeddings(w, ids, name)});
    }
    for (const auto& p : in.prompts) out.prompt_names.push_back(p.name);

    ExtractOptions o = job.options;
    o.label_tokens.clear();
    o.logit_tokens.clear();
    o.label_tokens = resolve_label_tokens(tok, ds, job.label_tokens);
    if (o.label_tokens.empty() && ds.has_labels) {
        std::fprintf(stderr,
                     "extract: note: the labels are not all vocabulary tokens; give label "
                     "tokens (--label-tokens LABEL=TOKEN,...) for label-token accuracy\n");
    }
    o.hidden = job.hidden;
    o.logits = LogitsRequest::none;
    if (job.logits) {
        if (job.logits_full) {
            o.logits = LogitsRequest::full;
        } else if (!job.logits_tokens.empty()) {
            o.logits = LogitsRequest::selected;
            for (const auto& t : job.logits_tokens) {
                o.logit_tokens.push_back(resolve_token(tok, t, "logits token"));
            }
        } else if (!o.label_tokens.empty()) {
            o.logits = LogitsRequest::selected;
            for (const auto& lt : o.label_tokens) o.logit_tokens.push_back(lt.token);
        } else {
            require(job.logits_optional,
                    "extract: logits asked for but not which: give logits tokens (e.g. "
                    "--logits-tokens good,bad), full logits (--logits-full), or label tokens");
        }
    }

    for (const auto& lt : o.label_tokens) out.label_token_labels.push_back(lt.label);
    const TokenizedRows rows = tokenize_rows(tok, ds, job.max_length, job.threads);
    out.tokenize_seconds = rows.seconds;
    for (size_t i = 0; i < rows.full_lengths.size(); ++i) {
        out.truncated += rows.full_lengths[i] > rows.tokens.length(i);
    }
    Gpt2CpuBackend backend(w, Gpt2CpuOptions{job.threads, job.precision});
    in.backend = &backend;
    in.config = w.config;
    in.dataset = &ds;
    in.rows = &rows;
    in.max_length = job.max_length;
    in.model_path = job.model;
    in.model_hash = gpt2_weights_hash(w);
    in.tokenizer_source = tok.source();
    in.data_path = job.data;
    out.model_hash = in.model_hash;
    out.result = run_extract(in, o, out_dir);
    return out;
}

}  // namespace promptlens
