// Labelled text datasets for `promptlens extract`: every reader returns the same `TextDataset`
// (text, label and where each row came from), so the extraction pipeline never sees file formats.
//  * folders: the IMDB layout `DIR/pos/*.txt`, `DIR/neg/*.txt`, read as the seed reads it (pos
//    files sorted, labelled "good", then neg files sorted, labelled "bad"), or any label
//    sub-folders given in order; files are read as Python's `Path.read_text()` does (CRLF and CR
//    become LF). The same layout is read straight from a `.tar.gz` / `.tar` (aclImdb_v1.tar.gz)
//    through tar_reader.hpp, without unpacking.
//  * CSV / TSV: RFC 4180 quoting (quoted fields may hold delimiters, "" and newlines), a header
//    line naming the columns; text and label columns chosen by name.
//  * plain text: one text per line, with the labels in a second file, one per line.
// JSON Lines and JSON arrays are read by extract/json_dataset.hpp (it needs a JSON parser).
// Text bytes are returned as they are: UTF-8 is checked (or repaired) later, with the row's
// `source` in the message. A NUL byte is refused here as "not a text file".
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace promptlens {

struct TextRow {
    std::string text;
    std::string label;   // "" when the dataset has no labels
    std::string source;  // where the row came from: "pos/0_10.txt", "reviews.csv:12"
};

struct TextDataset {
    std::vector<TextRow> rows;
    std::string format;       // "folders", "tar", "csv", "tsv", "jsonl", "json", "lines"
    bool has_labels = false;  // every row has a non-empty label
};

struct FolderDatasetOptions {
    // Label folders in order, each with the label its files get. Empty (the default): the seed's
    // IMDB order when both `pos` and `neg` exist ({pos, good}, {neg, bad}), otherwise every
    // sub-folder in sorted order, labelled by its own name.
    std::vector<std::pair<std::string, std::string>> folders = {};
    std::string extension = ".txt";  // files taken from each folder ("" = every file)
};

// `dir`/<folder>/*<extension>, folders in the order above, files sorted by name (byte order, as
// Python's sorted() of ASCII names).
TextDataset read_folder_dataset(const std::filesystem::path& dir,
                                const FolderDatasetOptions& options = {});

// The same layout inside a tar archive (gzip-compressed or not), under `subdir` of the archive
// ("aclImdb/test"; "" = the archive's root).
TextDataset read_tar_dataset(const std::filesystem::path& archive, const std::string& subdir,
                             const FolderDatasetOptions& options = {});

struct DelimitedDatasetOptions {
    char delimiter = 0;                  // 0 = by extension: '\t' for .tsv/.tab, else ','
    std::string text_column = "text";    // header name of the text column
    std::string label_column = "label";  // header name of the label column; "" = no labels
};

// CSV/TSV with a header line. A missing column or a row with the wrong number of fields is an
// Error naming the file and line.
TextDataset read_delimited_dataset(const std::filesystem::path& path,
                                   const DelimitedDatasetOptions& options = {});

// One text per line of `texts` (a final newline is optional, '\r' before '\n' dropped) and, when
// `labels` is not empty, one label per line of that file; the counts must agree.
TextDataset read_lines_dataset(const std::filesystem::path& texts,
                               const std::filesystem::path& labels = {});

// Splits "pos=good,neg=bad" into pairs (for --label-folders and --label-tokens); a bare "pos"
// maps to itself. Empty names are an Error naming `what`.
std::vector<std::pair<std::string, std::string>> parse_name_pairs(const std::string& spec,
                                                                  const std::string& what);

// Python's universal newlines: "\r\n" and a lone "\r" become "\n".
std::string universal_newlines(std::string text);

// Throws "<source>: not a text file (NUL byte at offset N)" when `text` holds a NUL byte.
void check_no_nul(const std::string& text, const std::string& source);

}  // namespace promptlens
