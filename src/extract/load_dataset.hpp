// One entry point for every dataset `promptlens extract --data` accepts, chosen by what the path
// is (a folder, a .tar.gz, .csv/.tsv, .jsonl, .json, .txt) or by an explicit format, followed by
// the UTF-8 check every text and label goes through (an Error naming the row's source and the
// byte offset, or U+FFFD as the user chose).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "data/text_dataset.hpp"
#include "text/utf8.hpp"

namespace promptlens {

struct DatasetOptions {
    std::string format = "auto";         // auto | folders | tar | csv | tsv | jsonl | json | lines
    std::string text_column = "text";    // CSV/TSV column or JSON field holding the text
    std::string label_column = "label";  // CSV/TSV column or JSON field; "" = unlabelled
    std::string labels_file;             // labels of a plain-text (lines) dataset
    std::string subdir;                  // folder inside a directory or tar archive
    std::vector<std::pair<std::string, std::string>> label_folders;  // see FolderDatasetOptions
    text::InvalidUtf8 invalid_utf8 = text::InvalidUtf8::error;
};

// The format "auto" resolves to for `path`.
std::string detect_dataset_format(const std::filesystem::path& path);

TextDataset load_text_dataset(const std::filesystem::path& path, const DatasetOptions& options);

}  // namespace promptlens
