#include "apps/text_inputs.hpp"

#include "core/error.hpp"
#include "data/text_dataset.hpp"
#include "hub/hub_download.hpp"
#include "model/hub_cache.hpp"

namespace promptlens::cli {

std::filesystem::path model_folder(const std::string& model, bool download) {
    try {
        return resolve_model_dir(model);
    } catch (const Error&) {
        if (!download) throw;
    }
    return download_model(model).snapshot;
}

void add_model_options(CLI::App* sub, ModelFlags& f) {
    sub->add_option("--model", f.model,
                    "GPT-2 model folder (config.json + model.safetensors or pytorch_model.bin), "
                    "or a hub name (gpt2, distilgpt2, ...) in the HuggingFace cache")
        ->required();
    sub->add_flag("--download", f.download,
                  "When --model is a hub name that is not in the HuggingFace cache, download it "
                  "there first (as `promptlens download`: $HF_ENDPOINT, $HF_HOME, $HF_TOKEN)");
    sub->add_option("--tokenizer", f.tokenizer,
                    "Folder with vocab.json + merges.txt or tokenizer.json (default: --model)");
}

void add_dataset_options(CLI::App* sub, DatasetFlags& f, bool unlabelled_allowed) {
    sub->add_option("--format", f.format, "Dataset format when the name does not tell")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "folders", "tar", "csv", "tsv", "jsonl", "json", "lines"}));
    sub->add_option("--subdir", f.subdir,
                    "Folder inside --data holding the label folders (e.g. aclImdb/test)");
    sub->add_option("--label-folders", f.label_folders,
                    "Label folders in order with their labels (default: pos=good,neg=bad when "
                    "both exist, else every sub-folder, sorted)");
    sub->add_option("--text-column", f.text_column, "CSV/TSV column or JSON field of the text")
        ->capture_default_str();
    sub->add_option("--label-column", f.label_column, "CSV/TSV column or JSON field of the label")
        ->capture_default_str();
    if (unlabelled_allowed) sub->add_flag("--no-labels", f.no_labels, "The dataset has no labels");
    sub->add_option("--labels", f.labels_file, "Labels of a .txt dataset, one a line");
    sub->add_option("--invalid-utf8", f.invalid_utf8,
                    "Bytes that are not UTF-8: 'error' (names the row and offset) or 'replace'")
        ->capture_default_str()
        ->check(CLI::IsMember({"error", "replace"}));
}

DatasetOptions dataset_options(const DatasetFlags& f) {
    DatasetOptions d;
    d.format = f.format;
    d.text_column = f.text_column;
    d.label_column = f.no_labels ? "" : f.label_column;
    d.labels_file = f.labels_file;
    d.subdir = f.subdir;
    if (!f.label_folders.empty()) {
        d.label_folders = parse_name_pairs(f.label_folders, "--label-folders");
    }
    d.invalid_utf8 = text::parse_invalid_utf8(f.invalid_utf8);
    return d;
}

}  // namespace promptlens::cli
