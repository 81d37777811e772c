#include "extract/load_dataset.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "extract/json_dataset.hpp"

namespace promptlens {
namespace fs = std::filesystem;

std::string detect_dataset_format(const fs::path& path) {
    require(fs::exists(path), "{}: no such file or folder", path.string());
    if (fs::is_directory(path)) return "folders";
    std::string name = path.filename().string();
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto ends = [&](const std::string& ext) {
        return name.size() >= ext.size() &&
               name.compare(name.size() - ext.size(), ext.size(), ext) == 0;
    };
    if (ends(".tar.gz") || ends(".tgz") || ends(".tar")) return "tar";
    if (ends(".csv")) return "csv";
    if (ends(".tsv") || ends(".tab")) return "tsv";
    if (ends(".jsonl") || ends(".ndjson")) return "jsonl";
    if (ends(".json")) return "json";
    if (ends(".txt")) return "lines";
    fail(
        "{}: cannot tell the dataset format from its name; use a folder, .tar.gz, .csv, .tsv, "
        ".jsonl, .json or .txt, or give --format",
        path.string());
}

TextDataset load_text_dataset(const fs::path& path, const DatasetOptions& o) {
    const std::string format = o.format == "auto" ? detect_dataset_format(path) : o.format;
    FolderDatasetOptions fo;
    fo.folders = o.label_folders;
    TextDataset ds;
    if (format == "folders") {
        ds = read_folder_dataset(o.subdir.empty() ? path : path / o.subdir, fo);
    } else if (format == "tar") {
        ds = read_tar_dataset(path, o.subdir, fo);
    } else if (format == "csv" || format == "tsv") {
        DelimitedDatasetOptions d;
        d.delimiter = format == "tsv" ? '\t' : ',';
        d.text_column = o.text_column;
        d.label_column = o.label_column;
        ds = read_delimited_dataset(path, d);
    } else if (format == "jsonl" || format == "json") {
        JsonDatasetOptions j;
        j.text_field = o.text_column;
        j.label_field = o.label_column;
        j.invalid_utf8 = o.invalid_utf8;
        ds = format == "jsonl" ? read_jsonl_dataset(path, j) : read_json_array_dataset(path, j);
    } else if (format == "lines") {
        ds = read_lines_dataset(path, o.labels_file);
    } else {
        fail("unknown dataset format '{}' (auto, folders, tar, csv, tsv, jsonl, json, lines)",
             format);
    }
    require(o.labels_file.empty() || format == "lines",
            "--labels is for plain-text datasets (one text a line); a {} dataset has its labels "
            "inside",
            format);
    for (auto& row : ds.rows) {
        row.text = text::check_utf8(row.text, o.invalid_utf8, row.source);
        row.label = text::check_utf8(row.label, o.invalid_utf8, row.source + " (label)");
        require(row.label.find('\n') == std::string::npos,
                "{}: the label holds a line break; labels must be one line", row.source);
    }
    return ds;
}

}  // namespace promptlens
