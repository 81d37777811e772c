// Flags shared by the commands that read labelled texts and run GPT-2 (`extract`,
// `train-prompt`): the model given as a folder or a hub name, and how to read the dataset.
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>

#include "extract/load_dataset.hpp"

namespace promptlens::cli {

// A folder, the cached snapshot of a hub name, or (with download) a fresh download of it.
std::filesystem::path model_folder(const std::string& model, bool download);

// --model (required), --download, --tokenizer.
struct ModelFlags {
    std::string model, tokenizer;
    bool download = false;
};
void add_model_options(CLI::App* app, ModelFlags& f);

// --format, --subdir, --label-folders, --text-column, --label-column, --invalid-utf8 and, when
// `unlabelled_allowed`, --no-labels and --labels.
struct DatasetFlags {
    std::string format = "auto", subdir, label_folders, text_column = "text",
                label_column = "label", labels_file, invalid_utf8 = "error";
    bool no_labels = false;
};
void add_dataset_options(CLI::App* app, DatasetFlags& f, bool unlabelled_allowed);
DatasetOptions dataset_options(const DatasetFlags& f);

}  // namespace promptlens::cli
