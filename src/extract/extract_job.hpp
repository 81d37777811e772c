// An extraction described the way a user describes it — paths, prompt names, token spellings —
// turned into a run of the pipeline (extractor.hpp). Both `promptlens extract` and the study
// runner build one of these, so the two accept the same things and fail with the same messages:
// dataset errors first (the cheapest to find), then the tokenizer and weights, then prompts and
// tokens, before any text goes through the model.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "data/text_dataset.hpp"
#include "extract/extractor.hpp"
#include "extract/load_dataset.hpp"
#include "model/gpt2_cpu_gemm.hpp"

namespace promptlens {

struct ExtractJob {
    std::string model;      // model folder (already resolved from a hub name)
    std::string tokenizer;  // folder with the tokenizer files; "" = the model folder
    std::string data;       // dataset path
    DatasetOptions dataset;
    // A seeded stratified sample of this many rows (0 = every row), kept in dataset order.
    size_t sample = 0;
    uint64_t sample_seed = 0;
    std::vector<std::pair<std::string, std::string>> prompt_files;  // name, .npy/.safetensors/.pt
    std::vector<std::pair<std::string, std::string>> text_prompts;  // name, text
    // label → token ("good=good,bad=bad"); empty: each class whose name is a vocabulary token.
    std::vector<std::pair<std::string, std::string>> label_tokens;
    bool hidden = true, logits = true;
    bool logits_full = false;                // full vocabulary
    std::vector<std::string> logits_tokens;  // or these columns; neither: the label tokens
    // With neither and no label tokens: skip the logits (true) or refuse (false).
    bool logits_optional = false;
    size_t max_length = 1000;
    int threads = 1;
    Precision precision = Precision::fp32;
    ExtractOptions options;  // positions, batch size, chunking, checkpoints, overwrite; the
                             // output and token fields are filled from the fields above
};

struct ExtractJobResult {
    ExtractResult result;
    TextDataset dataset;   // the rows extracted (after sampling), in output order
    size_t truncated = 0;  // rows cut at max_length
    double tokenize_seconds = 0;
    std::vector<std::string> prompt_names;
    // The labels whose tokens vote, in the column order of <prompt>/label_logits.npy (empty when
    // there is no label-token accuracy).
    std::vector<std::string> label_token_labels;
    std::string model_hash;
};

// A token as a user spells it: a vocab.json token ("good", "Ġgood"), a text that is one token
// (" good"), or "id:N". `what` names the option in errors.
NamedToken resolve_token(const text::Gpt2Tokenizer& tok, const std::string& spec,
                         const std::string& what);

// The label tokens of a dataset: the given LABEL=TOKEN pairs (tokens spelled as for
// resolve_token), or by default each class whose name is a vocabulary token ("good"), in order
// of first appearance; empty when the rows have no labels or some class is not a token.
std::vector<LabelToken> resolve_label_tokens(
    const text::Gpt2Tokenizer& tok, const TextDataset& ds,
    const std::vector<std::pair<std::string, std::string>>& given);

// Rows [kept] of a seeded stratified sample of `n` rows (each label keeps its share, largest
// remainders first), in dataset order. n ≥ rows keeps every row.
std::vector<size_t> stratified_sample(const TextDataset& ds, size_t n, uint64_t seed);

ExtractJobResult run_extract_job(const ExtractJob& job, const std::string& out_dir);

}  // namespace promptlens
