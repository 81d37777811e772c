// `promptlens report`: 2-D embeddings (+ labels, texts, cluster assignments, label-token flags)
// → one self-contained interactive HTML page (src/report). Each --embedding is a panel; with
// --neighbors-from, every row's nearest neighbours in those original features are shown on hover;
// each --clusters file adds its purity table, majority and matched accuracy to the metric tables.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include "apps/commands.hpp"
#include "apps/common.hpp"
#include "core/error.hpp"
#include "core/labels.hpp"
#include "metrics/contingency.hpp"
#include "metrics/knn_accuracy.hpp"
#include "metrics/matching.hpp"
#include "metrics/neighbor_index.hpp"
#include "report/report_html.hpp"

namespace promptlens::cli {
namespace {

struct ReportOptions {
    std::vector<std::string> panels;    // FILE or FILE=TITLE
    std::vector<std::string> clusters;  // one for every panel, or one per panel
    std::vector<std::string> won;       // label-token flags (0/1 per line), likewise
    std::string labels, texts, out, title = "promptlens report", model, neighbors_from;
    std::string x_label = "dimension 1", y_label = "dimension 2";
    size_t neighbors = 5, max_text_chars = 600;
    bool random_weights = false, no_metric = false;
    int threads = 0;
};

std::vector<std::string> read_lines(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    require(in.good(), "{}: cannot open", path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(std::move(line));
    }
    return lines;
}

// .jsonl: one object per line with "text" and optional "id", "source"; otherwise one text a line.
std::vector<report::Row> read_texts(const std::string& path, size_t rows) {
    std::vector<report::Row> out;
    const std::vector<std::string> lines = read_lines(path);
    const bool jsonl = std::filesystem::path(path).extension() == ".jsonl";
    for (size_t i = 0; i < lines.size(); ++i) {
        if (jsonl && lines[i].empty()) continue;
        report::Row r;
        if (jsonl) {
            const auto j = nlohmann::json::parse(lines[i], nullptr, false);
            require(j.is_object() && j.contains("text") && j["text"].is_string(),
                    "{}:{}: expected a JSON object with a string \"text\"", path, i + 1);
            r.text = j["text"].get<std::string>();
            if (j.contains("id"))
                r.id = j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump();
            if (j.contains("source") && j["source"].is_string())
                r.source = j["source"].get<std::string>();
        } else {
            r.text = lines[i];
        }
        out.push_back(std::move(r));
    }
    require(out.size() == rows, "{}: {} texts but the embeddings have {} rows", path, out.size(),
            rows);
    return out;
}

// `files` holds one path for every panel or one per panel; returns the path of panel p.
const std::string* per_panel(const std::vector<std::string>& files, size_t p, size_t panels,
                             const char* flag) {
    if (files.empty()) return nullptr;
    require(files.size() == 1 || files.size() == panels,
            "report: {} given {} times for {} embeddings; give it once (all panels) or once per "
            "--embedding",
            flag, files.size(), panels);
    return &files[files.size() == 1 ? 0 : p];
}

report::Table purity_table(const std::string& name, const Labels& clusters, const Labels& labels) {
    const Contingency t =
        contingency(clusters.codes, clusters.n_classes(), labels.codes, labels.n_classes());
    const MatrixD purity = purity_table(t);
    report::Table table;
    table.title = fmt::format("Purity: {}", name);
    table.columns.push_back("cluster");
    for (const std::string& l : labels.classes) table.columns.push_back(l);
    table.columns.push_back("rows");
    for (size_t c = 0; c < t.clusters; ++c) {
        std::vector<std::string> row{clusters.classes[c]};
        int64_t members = 0;
        for (size_t l = 0; l < t.classes; ++l) {
            row.push_back(fmt::format("{:.6f}", purity(c, l)));
            members += t.at(c, l);
        }
        row.push_back(std::to_string(members));
        table.rows.push_back(std::move(row));
    }
    table.note =
        fmt::format("majority accuracy {:.4f}, matched accuracy {:.4f}, ARI {:.4f}, NMI {:.4f}",
                    majority_accuracy(t), matched_accuracy(t).accuracy, adjusted_rand_index(t),
                    normalized_mutual_info(t));
    return table;
}

void run_report(const ReportOptions& o) {
    check_output_paths({o.out});
    require(!o.panels.empty(), "report: nothing to show; give --embedding FILE (repeatable)");
    report::ReportData d;
    d.title = o.title;
    d.model = o.model;
    d.random_weights = o.random_weights;
    Labels labels;
    std::map<std::string, Labels> cluster_files;
    report::Table summary{"Panels", {"panel", "rows", "10-NN accuracy (5-fold)"}, {}, ""};
    for (size_t p = 0; p < o.panels.size(); ++p) {
        const std::string& spec = o.panels[p];
        const size_t eq = spec.find('=');
        const std::string path = spec.substr(0, eq);
        const Matrix y = load_features(path, false, o.threads);
        require(y.cols() >= 2, "{}: a scatter plot needs at least 2 columns, got {}", path,
                y.cols());
        if (p == 0) {
            labels = load_labels(o.labels, y.rows(), path);
            d.label_names = labels.classes;
            d.labels = labels.codes;
            d.rows = o.texts.empty() ? std::vector<report::Row>(y.rows())
                                     : read_texts(o.texts, y.rows());
        }
        require(y.rows() == labels.size(), "{}: {} rows but {} has {} labels", path, y.rows(),
                o.labels, labels.size());
        report::Panel panel;
        panel.id = fmt::format("p{}", p + 1);
        panel.title = eq == std::string::npos ? path : spec.substr(eq + 1);
        panel.subtitle = fmt::format("{} points", y.rows());
        panel.x_axis = o.x_label;
        panel.y_axis = o.y_label;
        panel.xy.resize(2 * y.rows());
        for (size_t i = 0; i < y.rows(); ++i) {
            panel.xy[2 * i] = y(i, 0);
            panel.xy[2 * i + 1] = y(i, 1);
        }
        if (const std::string* f = per_panel(o.clusters, p, o.panels.size(), "--clusters")) {
            if (!cluster_files.count(*f)) cluster_files[*f] = read_labels(*f);
            const Labels& c = cluster_files[*f];
            require(c.size() == y.rows(), "{}: {} cluster ids but {} has {} rows", *f, c.size(),
                    path, y.rows());
            panel.clusters = c.codes;
        }
        if (const std::string* f = per_panel(o.won, p, o.panels.size(), "--label-token-won")) {
            for (const std::string& line : read_lines(*f)) {
                require(line == "0" || line == "1", "{}: expected 0 or 1 per line, got '{}'", *f,
                        line);
                panel.label_token_won.push_back(line == "1" ? 1 : 0);
            }
            require(panel.label_token_won.size() == y.rows(), "{}: {} flags but {} has {} rows", *f,
                    panel.label_token_won.size(), path, y.rows());
        }
        std::string acc = "-";
        if (!o.no_metric && labels.n_classes() > 1) {
            const ConstMatView xy2(y.data(), y.rows(), 2, y.cols());
            acc = fmt::format("{:.4f}", knn_cv_accuracy(xy2, labels.codes, 10, 5, o.threads).mean);
            panel.note = "10-NN accuracy " + acc;
        }
        summary.rows.push_back({panel.title, std::to_string(y.rows()), acc});
        d.panels.push_back(std::move(panel));
    }
    if (!o.neighbors_from.empty()) {
        const Matrix x = load_features(o.neighbors_from, false, o.threads);
        require(x.rows() == labels.size(), "{}: {} rows but the embeddings have {}",
                o.neighbors_from, x.rows(), labels.size());
        require(o.neighbors >= 1 && o.neighbors < x.rows(),
                "report: --neighbors {} needs 1 <= k < rows ({})", o.neighbors, x.rows());
        NeighborIndexOptions no;
        no.max_k = o.neighbors;
        no.threads = o.threads;
        const auto index = make_neighbor_index(x.view(), no);
        const Neighbors nn = self_neighbors(*index, x.view(), o.neighbors, o.threads);
        d.neighbor_sets.push_back({std::filesystem::path(o.neighbors_from).filename().string() +
                                       fmt::format(" ({} columns)", x.cols()),
                                   o.neighbors, nn.index});
        for (report::Panel& p : d.panels) p.neighbor_set = 0;
        d.provenance.push_back(fmt::format(
            "neighbours: {} nearest in {} ({}, Euclidean)", o.neighbors, o.neighbors_from,
            resolve_method(no, x.rows()) == NeighborMethod::exact ? "exact" : "NN-descent"));
    }
    if (!o.no_metric) d.tables.push_back(summary);
    for (const auto& [file, c] : cluster_files) d.tables.push_back(purity_table(file, c, labels));
    d.provenance.push_back("labels: " + o.labels);
    if (!o.texts.empty()) d.provenance.push_back("texts: " + o.texts);
    for (const std::string& spec : o.panels) d.provenance.push_back("embedding: " + spec);
    report::SerializeOptions so;
    so.max_text_chars = o.max_text_chars;
    const size_t bytes = report::write_report_html(o.out, d, so);
    fmt::print("wrote {} ({} panel{}, {} rows, {:.1f} MB)\n", o.out, d.panels.size(),
               d.panels.size() == 1 ? "" : "s", d.rows.size(), bytes / 1e6);
}

}  // namespace

void setup_report(CLI::App& app) {
    auto o = std::make_shared<ReportOptions>();
    auto* sub = app.add_subcommand(
        "report",
        "Write one self-contained interactive HTML page: linked scatter panels (hover shows the "
        "text, label, cluster and nearest neighbours), search, box/lasso selection with CSV/JSON "
        "export, and metric tables");
    sub->add_option(
           "--embedding", o->panels,
           "N x 2 embedding (.npy/.csv/.tsv), optionally FILE=TITLE; repeat for more panels")
        ->required();
    sub->add_option("--labels", o->labels, "One label per row (text file)")->required();
    sub->add_option("--out", o->out, "Output .html")->required();
    sub->add_option("--texts", o->texts,
                    "Row texts: .jsonl objects with \"text\" (and optional \"id\", \"source\"), or "
                    "one text per line");
    sub->add_option("--clusters", o->clusters,
                    "Cluster ids, one per row; once for all panels or once per --embedding");
    sub->add_option("--label-token-won", o->won,
                    "Whether each row's label token won (0/1 per line); once or once per panel");
    sub->add_option(
        "--neighbors-from", o->neighbors_from,
        "Original features (.npy/.csv): hover lists each row's nearest neighbours there");
    sub->add_option("--neighbors", o->neighbors, "Neighbours per row")->capture_default_str();
    sub->add_option("--title", o->title, "Page title")->capture_default_str();
    sub->add_option("--model", o->model, "Model named in the header (\"gpt2\")");
    sub->add_flag("--random-weights", o->random_weights,
                  "Say in a banner that the model had random weights (numbers not meaningful)");
    sub->add_option("--max-text-chars", o->max_text_chars,
                    "Texts longer than this are cut in the page (0: keep whole)")
        ->capture_default_str();
    sub->add_option("--x-label", o->x_label, "Horizontal axis name")->capture_default_str();
    sub->add_option("--y-label", o->y_label, "Vertical axis name")->capture_default_str();
    sub->add_flag("--no-metric", o->no_metric, "Leave out each panel's 10-NN accuracy");
    add_threads_option(sub, o->threads);
    sub->callback([o] { run_report(*o); });
}

}  // namespace promptlens::cli
