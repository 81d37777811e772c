// A study: the seed notebook as one TOML file — which model, which labelled texts, which prompts,
// which outputs (hidden state, logits), which scalings and which methods with their parameters.
// `promptlens run STUDY.toml` turns it into features, embeddings, cluster tables, figures and a
// report (study/study_runner.hpp). This file only reads and checks the specification: every
// unknown key, wrong type, bad value or missing file is one Error that names the key and its line
// ("seed-study.toml:14: methods.tsne.perplexity: expected a number, got a string"), raised before
// any work starts. Relative paths are relative to the study file's folder. See
// docs/study.md for the format and examples/seed-study.toml for the seed's notebook.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace promptlens {

// A small deterministic random-weight GPT-2 with the real tokenizer, for demos and tests when no
// real weights are at hand (numbers from it describe nothing: the report says so).
struct RandomModelSpec {
    int layers = 2, heads = 4, embd = 128, positions = 1024;
    uint64_t seed = 0;
    std::filesystem::path tokenizer;  // folder with vocab.json + merges.txt
};

struct StudyModel {
    std::string path;                 // a folder or a hub name ("gpt2"); empty when `random`
    std::filesystem::path tokenizer;  // a folder with the tokenizer files; empty: the model's
    bool random = false;
    RandomModelSpec random_spec;
};

struct StudyData {
    std::filesystem::path path;
    std::string format = "auto";
    std::string text_column = "text", label_column = "label";
    std::string label_folders;  // "pos=good,neg=bad"
    std::string subdir;         // inside a folder or archive
    size_t sample = 0;          // 0: every row; else a seeded stratified sample of this many
    size_t max_length = 1000;   // tokens per text (right truncation, as the seed)
};

// A prompt the study trains before extracting ([trained_prompts.NAME]): `promptlens
// train-prompt` with these options (docs/training.md) on the study's data or on `data`, into
// OUT/train/NAME; the best prompt is then extracted like any other.
struct StudyTraining {
    std::filesystem::path data;  // empty: the study's [data] (read whole, before any sampling)
    std::string loss = "token";  // token | cosine | distance | contrastive
    std::string output;          // hidden | logits | label-logits; "" = the loss's default
    int64_t epochs = 5, batch_size = 8, prompt_length = 20;
    double learning_rate = 0.03, margin = 0, temperature = 0.1, validation_fraction = 0.2;
    std::string init = "random", init_text;
};

struct StudyPrompt {
    std::string name;
    std::filesystem::path file;  // .npy / .safetensors / .pt
    std::string text;            // or a hard prompt given as text
    bool trained = false;        // or trained by the study (the file is set when it is)
    StudyTraining training;
};

struct StudyExtract {
    bool hidden = true, logits = false;
    bool logits_full = false;                         // full vocabulary (N × V)
    std::vector<std::string> logits_tokens;           // or these tokens' logits (N × k)
    std::map<std::string, std::string> label_tokens;  // label → token, for label-token accuracy
    std::string positions = "exact";                  // exact | hf-padded
    size_t batch_size = 32;
};

// One panel column of the grid. `method` is pca | tsne | umap | kmeans; the table's own name is
// the id, so two t-SNE columns can differ in perplexity ([methods.tsne-p5] method = "tsne").
struct StudyMethod {
    std::string id, method;
    // Parameters as given (validated per method); numbers kept as double, lists of integers for
    // kmeans clusters.
    std::map<std::string, double> numbers;
    std::map<std::string, std::string> strings;
    std::vector<int64_t> clusters;  // kmeans: the K values (first one is the panel)
};

struct StudySpec {
    std::filesystem::path file;  // the study file, absolute
    std::string title;
    std::filesystem::path out;
    uint64_t seed = 0;
    int threads = 0;
    StudyModel model;
    StudyData data;
    std::vector<StudyPrompt> prompts;  // in file order
    StudyExtract extract;
    std::vector<std::string> scalings = {"raw", "scaled"};
    std::vector<StudyMethod> methods;  // in file order
};

StudySpec read_study(const std::filesystem::path& file);
// The same from text (tests); `base` resolves relative paths.
StudySpec parse_study(const std::string& text, const std::filesystem::path& file);

// The model's short name for figure titles: the hub name ("gpt2"), a folder's last component
// ("/models/gpt2-medium" -> "gpt2-medium"), or "random-weight GPT-2 (2 layers, width 128)".
std::string model_name(const StudyModel& model);

}  // namespace promptlens
