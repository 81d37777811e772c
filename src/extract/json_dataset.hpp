// Labelled texts in JSON: JSON Lines (one object a line) and JSON arrays of objects, e.g. npm
// `sentiment`'s fixtures `[{"text": "...", "class": 0}, ...]`. The text field must be a string;
// a label may be a string, an integer or a boolean (written as JSON writes it: 0, true).
// Lives in the extract layer because it needs nlohmann_json (promptlens_data does not link it).
#pragma once

#include <filesystem>
#include <string>

#include "data/text_dataset.hpp"
#include "text/utf8.hpp"

namespace promptlens {

struct JsonDatasetOptions {
    std::string text_field = "text";
    std::string label_field = "label";  // "" = no labels
    // Bytes that are not UTF-8 (a JSON parser refuses them): an Error naming line and offset,
    // or U+FFFD.
    text::InvalidUtf8 invalid_utf8 = text::InvalidUtf8::error;
};

TextDataset read_jsonl_dataset(const std::filesystem::path& path,
                               const JsonDatasetOptions& options = {});
TextDataset read_json_array_dataset(const std::filesystem::path& path,
                                    const JsonDatasetOptions& options = {});

}  // namespace promptlens
