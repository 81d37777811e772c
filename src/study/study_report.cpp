#include "study/study_report.hpp"

#include <map>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/npy.hpp"
#include "metrics/neighbors.hpp"
#include "report/report_html.hpp"

namespace promptlens {
namespace {
namespace fs = std::filesystem;

constexpr size_t kNeighbors = 5;
// Nearest neighbours are shown for feature spaces up to this width (hidden states, label-token
// logits); a full-vocabulary logits space (50,257 columns) would cost more than the whole study.
constexpr size_t kNeighborMaxCols = 4096;

std::string fmt3(double v) {
    return fmt::format("{:.3f}", v);
}

// Each row's k nearest other rows in the raw features of `file`, cached beside the panels.
std::vector<int32_t> feature_neighbors(const fs::path& file, const fs::path& cache_file,
                                       const StepCache& cache, const std::string& step,
                                       const std::string& key, int threads) {
    if (cache.fresh(step, key, {cache_file})) {
        const auto v = read_npy_ints(cache_file);
        return {v.begin(), v.end()};
    }
    const Matrix x = read_npy_matrix(file);
    const ExactNeighbors index(x.view());
    const Neighbors nb =
        self_neighbors(index, x.view(), std::min(kNeighbors, x.rows() - 1), threads);
    fs::create_directories(cache_file.parent_path());
    write_npy(cache_file, std::span<const int32_t>(nb.index));
    cache.record(step, key);
    return nb.index;
}

}  // namespace

void write_study_report(const fs::path& path, const StudySpec& s, const ExtractJobResult& ex,
                        const Labels& labels, const std::vector<Panel>& panels,
                        const StudyRunSummary& sum, int threads) {
    report::ReportData d;
    d.title = s.title;
    d.model = sum.random_model ? model_name(s.model) : s.model.path;
    d.random_weights = sum.random_model;
    d.provenance.push_back(fmt::format("study {}", s.file.string()));
    d.provenance.push_back(
        fmt::format("model folder {} (weights hash {})", sum.model, ex.model_hash));
    d.provenance.push_back(
        fmt::format("data {} ({} rows{}), max {} tokens ({} truncated)", s.data.path.string(),
                    ex.dataset.rows.size(),
                    s.data.sample ? fmt::format(", seeded sample of {}", s.data.sample) : "",
                    s.data.max_length, ex.truncated));
    d.provenance.push_back(
        fmt::format("prompt positions {}, seed {}", s.extract.positions, s.seed));
    for (size_t i = 0; i < ex.dataset.rows.size(); ++i) {
        const auto& r = ex.dataset.rows[i];
        d.rows.push_back({std::to_string(i), r.text, r.source});
    }
    d.label_names = labels.classes;
    d.labels = labels.codes;

    // Per prompt: did each row's label token win (from label_logits.npy)?
    std::map<std::string, std::vector<uint8_t>> won;
    if (!ex.label_token_labels.empty()) {
        for (const std::string& prompt : ex.prompt_names) {
            const fs::path f = s.out / "features" / prompt / "label_logits.npy";
            if (!fs::exists(f)) continue;
            const Matrix ll = read_npy_matrix(f);  // N × label tokens
            std::vector<uint8_t> w(ll.rows(), 0);
            for (size_t i = 0; i < ll.rows(); ++i) {
                const std::string& label = ex.dataset.rows[i].label;
                size_t mine = ll.cols();
                for (size_t c = 0; c < ex.label_token_labels.size(); ++c) {
                    if (ex.label_token_labels[c] == label) mine = c;
                }
                if (mine == ll.cols()) continue;
                bool best = true;
                for (size_t c = 0; c < ll.cols(); ++c) {
                    if (c != mine && ll(i, c) >= ll(i, mine)) best = false;
                }
                w[i] = best;
            }
            won[prompt] = std::move(w);
        }
    }

    // Neighbour sets: one per prompt × output, in the raw features.
    const StepCache cache(s.out);
    std::map<std::string, int> set_of;
    for (const Panel& p : panels) {
        const std::string space = p.prompt + "/" + p.output;
        if (set_of.count(space)) continue;
        set_of[space] = -1;
        const fs::path file = s.out / "features" / p.prompt / (p.output + ".npy");
        const NpyHeader h = read_npy_header(file);
        if (h.shape.size() != 2 || h.shape[1] > kNeighborMaxCols || h.shape[0] < 2) continue;
        report::NeighborSet ns;
        ns.space = fmt::format("{} of prompt {}", p.output == "hidden" ? "hidden state" : "logits",
                               p.prompt);
        ns.k = std::min<size_t>(kNeighbors, h.shape[0] - 1);
        ns.ids = feature_neighbors(file, s.out / "panels" / p.prompt / p.output / "neighbors.npy",
                                   cache, "neighbors/" + space,
                                   ex.result.identity + "/" + space + fmt::format("/k{}", ns.k),
                                   threads);
        set_of[space] = static_cast<int>(d.neighbor_sets.size());
        d.neighbor_sets.push_back(std::move(ns));
    }

    for (const Panel& p : panels) {
        report::Panel rp;
        rp.id = fmt::format("{}-{}-{}-{}", p.method.id, p.prompt, p.output, p.scaling);
        rp.title = fmt::format("{} · {} · {} · {}", p.method.id, p.prompt, p.output, p.scaling);
        rp.subtitle = p.subtitle;
        rp.x_axis = p.x_label;
        rp.y_axis = p.y_label;
        rp.xy.assign(p.xy.data(), p.xy.data() + p.xy.rows() * 2);
        if (p.xy.cols() != 2) {
            rp.xy.clear();
            for (size_t i = 0; i < p.xy.rows(); ++i)
                rp.xy.insert(rp.xy.end(), {p.xy(i, 0), p.xy(i, 1)});
        }
        rp.clusters = p.clusters;
        if (won.count(p.prompt)) rp.label_token_won = won[p.prompt];
        rp.neighbor_set = set_of[p.prompt + "/" + p.output];
        rp.note = fmt::format("10-NN accuracy {} · trustworthiness {} · silhouette {}",
                              fmt3(p.metrics.knn_accuracy), fmt3(p.metrics.trustworthiness),
                              fmt3(p.metrics.silhouette));
        d.panels.push_back(std::move(rp));
    }

    // Tables: label-token accuracy, separation per panel, KMeans purity.
    if (!ex.result.accuracy.empty()) {
        report::Table t{"Label-token accuracy", {"prompt", "rows", "accuracy"}, {}, ""};
        for (const auto& a : ex.result.accuracy) {
            std::vector<std::string> row = {
                a.prompt, std::to_string(a.rows),
                fmt::format("{:.5f}", a.rows ? double(a.correct) / double(a.rows) : 0.0)};
            for (const auto& c : a.classes) {
                if (t.rows.empty()) t.columns.push_back("accuracy on " + c.label);
                row.push_back(
                    fmt::format("{:.5f}", c.rows ? double(c.correct) / double(c.rows) : 0.0));
            }
            t.rows.push_back(row);
        }
        t.note = "does the logit of each row's label token beat the other label tokens' logits";
        d.tables.push_back(t);
    }
    report::Table sep{"Separation of the labels in each panel",
                      {"method", "prompt", "output", "scaling", "10-NN accuracy", "trustworthiness",
                       "silhouette"},
                      {},
                      "10-NN accuracy: 5-fold stratified cross-validation in the 2-D panel; "
                      "trustworthiness: k = 5, features vs panel"};
    for (const Panel& p : panels) {
        sep.rows.push_back({p.method.id, p.prompt, p.output, p.scaling,
                            fmt3(p.metrics.knn_accuracy), fmt3(p.metrics.trustworthiness),
                            fmt3(p.metrics.silhouette)});
    }
    d.tables.push_back(sep);
    for (const Panel& p : panels) {
        for (const ClusterTable& ct : p.tables) {
            report::Table t{
                fmt::format("KMeans K={} · {} · {} · {}", ct.k, p.prompt, p.output, p.scaling),
                {"cluster"},
                {},
                fmt::format(
                    "majority accuracy {:.4f}, matched accuracy {:.4f}, ARI {:.4f}, NMI {:.4f}",
                    ct.majority_accuracy, ct.matched_accuracy, ct.ari, ct.nmi)};
            for (const auto& name : labels.classes) t.columns.push_back(name);
            for (size_t c = 0; c < ct.counts.size(); ++c) {
                std::vector<std::string> row = {std::to_string(c)};
                for (int64_t n : ct.counts[c]) row.push_back(std::to_string(n));
                t.rows.push_back(row);
            }
            d.tables.push_back(t);
        }
    }
    report::write_report_html(path, d);
}

}  // namespace promptlens
