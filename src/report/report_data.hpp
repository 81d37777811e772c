// The data model of the interactive HTML report (report_html.hpp writes it): rows (the texts and
// their labels), 2-D panels over those rows (one per embedding: PCA, t-SNE, UMAP, KMeans
// distances...), neighbour lists computed in the panels' original feature spaces, and metric
// tables. It holds no pixels: report/report.js draws it in the browser.
//
// Serialisation (`to_json`) is compact so that 16 panels × 25,000 points load in about a second:
// coordinates are quantised to 16 bits inside each panel's bounding box (a step of range/65,535,
// four and a half significant digits, far below one screen pixel) and sent as base64
// little-endian uint16; integer arrays (labels, clusters, neighbour ids, label-token flags) are
// base64 of the smallest unsigned type that holds them (u8, u16 or u32). Texts are cut to
// `max_text_chars` code points. The format is described field by field in report/FORMAT.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace promptlens::report {

struct Row {
    std::string id;      // shown and exported; "" = the row number
    std::string text;    // "" when the report has no texts
    std::string source;  // where the row came from ("pos/0_10.txt"); may be ""
};

// k nearest neighbours of every row in one feature space (not the 2-D panel): ids is N×k,
// row-major, each row's own id excluded, nearest first. Panels computed from the same features
// share one set.
struct NeighborSet {
    std::string space;  // "GPT-2 hidden state, scaled": shown in the tooltip
    size_t k = 0;
    std::vector<int32_t> ids;  // N×k row numbers
};

struct Panel {
    std::string id;  // short and unique: used in exports ("pca-scaled-model")
    std::string title, subtitle;
    std::string x_axis = "dimension 1", y_axis = "dimension 2";
    std::vector<float> xy;                 // N×2 row-major
    std::vector<int32_t> clusters;         // N cluster ids ≥ 0, or empty
    std::vector<uint8_t> label_token_won;  // N flags (1 = the row's label token won), or empty
    int neighbor_set = -1;                 // index into ReportData::neighbor_sets, −1 = none
    std::string note;                      // one line under the panel ("10-NN accuracy 0.91")
};

struct Table {
    std::string title;
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows;  // cells as text, formatted by the caller
    std::string note;                            // "" = none
};

struct ReportData {
    std::string title = "promptlens report";
    std::string model;            // "gpt2 (124M)"; "" when the embeddings came from elsewhere
    bool random_weights = false;  // true: a banner says the numbers are not meaningful
    std::vector<std::string> provenance;  // one line each: options, files, versions
    std::vector<Row> rows;                // N
    std::vector<std::string> label_names;
    std::vector<int32_t> labels;  // N codes into label_names
    std::vector<NeighborSet> neighbor_sets;
    std::vector<Panel> panels;
    std::vector<Table> tables;
};

struct SerializeOptions {
    size_t max_text_chars = 600;  // longer texts are cut (with "…"); 0 = keep whole texts
};

// Throws Error naming the panel / field when sizes disagree (a panel with N' ≠ N rows, a label
// code outside label_names, a neighbour id out of range, a non-finite coordinate...).
void validate(const ReportData& data);

// The JSON object embedded in the page (validates first).
nlohmann::json to_json(const ReportData& data, const SerializeOptions& options = {});

// Encoding helpers, public for tests.
std::string base64_encode(const void* bytes, size_t size);
std::vector<uint8_t> base64_decode(const std::string& text);
// Cuts `text` to at most `max_chars` UTF-8 code points (plus "…" when cut); invalid UTF-8 bytes
// become U+FFFD so the JSON is always valid.
std::string clip_text(const std::string& text, size_t max_chars);

}  // namespace promptlens::report
