#include "study/study_panel.hpp"

#include <chrono>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cluster/kmeans.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/npy.hpp"
#include "core/progress.hpp"
#include "embed/tsne.hpp"
#include "embed/umap.hpp"
#include "metrics/contingency.hpp"
#include "metrics/knn_accuracy.hpp"
#include "metrics/matching.hpp"
#include "metrics/silhouette.hpp"
#include "metrics/trustworthiness.hpp"
#include "reduce/pca.hpp"

namespace promptlens {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

// FNV-1a over the text of everything a panel depends on: a cache key, not a security hash.
std::string key_of(const std::string& text) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
    return fmt::format("{:016x}", h);
}

json method_json(const StudyMethod& m) {
    json j = {{"id", m.id}, {"method", m.method}};
    for (const auto& [k, v] : m.numbers) j["numbers"][k] = v;
    for (const auto& [k, v] : m.strings) j["strings"][k] = v;
    if (!m.clusters.empty()) j["clusters"] = m.clusters;
    return j;
}

std::string fmt_params(const StudyMethod& m) {
    auto n = [&](const char* k) { return m.numbers.at(k); };
    if (m.method == "pca") return "";
    if (m.method == "tsne") {
        return fmt::format("perplexity {:g}, {:g} iterations", n("perplexity"), n("iterations"));
    }
    if (m.method == "umap") {
        return fmt::format("{:g} neighbours, min_dist {:g}{}", n("n_neighbors"), n("min_dist"),
                           n("supervised") > 0 ? ", supervised" : "");
    }
    std::string ks;
    for (int64_t k : m.clusters) ks += (ks.empty() ? "" : ", ") + std::to_string(k);
    return fmt::format("K = {}", ks);
}

ClusterTable cluster_table(ConstMatView x, const Labels& labels, size_t k, const StudyMethod& m,
                           uint64_t seed, int threads, Matrix* distances,
                           std::vector<int32_t>* assignments) {
    KMeansOptions o;
    o.clusters = k;
    o.n_init = static_cast<size_t>(m.numbers.at("n_init"));
    o.max_iter = static_cast<size_t>(m.numbers.at("max_iter"));
    o.seed = seed;
    o.threads = threads;
    const KMeansResult r = kmeans_fit(x, o);
    const Contingency t = contingency(r.labels, k, labels.codes, labels.n_classes());
    ClusterTable ct;
    ct.k = k;
    ct.inertia = r.inertia;
    for (size_t c = 0; c < t.clusters; ++c) {
        ct.counts.emplace_back();
        for (size_t l = 0; l < t.classes; ++l) ct.counts.back().push_back(t.at(c, l));
    }
    ct.majority_accuracy = majority_accuracy(t);
    ct.matched_accuracy = matched_accuracy(t).accuracy;
    ct.ari = adjusted_rand_index(t);
    ct.nmi = normalized_mutual_info(t);
    if (distances) *distances = kmeans_transform(r.centers, x, threads);
    if (assignments) *assignments = r.labels;
    return ct;
}

Matrix compute_embedding(ConstMatView x, const StudyMethod& m, const Labels& labels, uint64_t seed,
                         int threads, Panel& p) {
    const std::string what = fmt::format("{} {} {} {}", p.prompt, p.output, p.scaling, m.id);
    if (m.method == "pca") {
        PcaOptions o;
        o.components = std::min<size_t>(2, x.cols());
        o.seed = seed;
        o.threads = threads;
        PcaModel model;
        Matrix y = pca_fit_transform(x, o, &model);
        p.x_label = fmt::format("PC1 ({:.1f}%)", 100 * model.explained_variance_ratio[0]);
        p.y_label = fmt::format("PC2 ({:.1f}%)", 100 * model.explained_variance_ratio[1]);
        p.subtitle = describe(model);
        return y;
    }
    if (m.method == "tsne") {
        TsneOptions o;
        o.perplexity = m.numbers.at("perplexity");
        o.max_iter = static_cast<size_t>(m.numbers.at("iterations"));
        o.early_exaggeration = m.numbers.at("early_exaggeration");
        o.learning_rate = m.numbers.count("learning_rate") ? m.numbers.at("learning_rate") : 0;
        o.init = m.strings.at("init") == "random" ? TsneInit::random : TsneInit::pca;
        o.metric = m.strings.at("metric") == "cosine" ? TsneMetric::cosine : TsneMetric::euclidean;
        const std::string& rep = m.strings.at("repulsion");
        o.repulsion_auto = rep == "auto";
        o.repulsion.method = rep == "exact"        ? TsneRepulsionMethod::exact
                             : rep == "barnes-hut" ? TsneRepulsionMethod::barnes_hut
                                                   : TsneRepulsionMethod::fft;
        o.repulsion.theta = m.numbers.at("theta");
        o.seed = seed;
        o.threads = threads;
        Progress progress("t-SNE " + what, o.max_iter, "iterations");
        TsneResult r = tsne_fit(x, o, progress.callback());
        progress.finish();
        p.x_label = "t-SNE 1";
        p.y_label = "t-SNE 2";
        p.subtitle = fmt::format("{}, KL {:.3f}", fmt_params(m), r.kl_divergence);
        return std::move(r.embedding);
    }
    if (m.method == "umap") {
        UmapOptions o;
        o.n_neighbors = static_cast<size_t>(m.numbers.at("n_neighbors"));
        o.min_dist = m.numbers.at("min_dist");
        o.spread = m.numbers.at("spread");
        o.epochs = static_cast<size_t>(m.numbers.at("epochs"));
        o.learning_rate = m.numbers.at("learning_rate");
        o.negative_sample_rate = m.numbers.at("negative_sample_rate");
        o.target_weight = m.numbers.at("target_weight");
        const std::string& init = m.strings.at("init");
        o.init = init == "random" ? UmapInit::random
                 : init == "pca"  ? UmapInit::pca
                                  : UmapInit::spectral;
        o.metric = m.strings.at("metric") == "cosine" ? UmapMetric::cosine : UmapMetric::euclidean;
        o.seed = seed;
        o.threads = threads;
        const bool supervised = m.numbers.at("supervised") > 0;
        Progress progress("UMAP " + what, 1, "epochs");
        UmapModel model = umap_fit(
            x, o, supervised ? std::span<const int32_t>(labels.codes) : std::span<const int32_t>{},
            [&](const char* stage, size_t done, size_t total, double) {
                if (std::string(stage) == "sgd") progress.update(done, total);
            });
        progress.finish();
        p.x_label = "UMAP 1";
        p.y_label = "UMAP 2";
        p.subtitle = fmt_params(m);
        for (const auto& note : model.notes) p.subtitle += "; " + note;
        return std::move(model.embedding);
    }
    // kmeans: distances to the first two centres of the first K, as the seed plots them.
    Matrix distances;
    for (size_t i = 0; i < m.clusters.size(); ++i) {
        const size_t k = static_cast<size_t>(m.clusters[i]);
        require(k <= x.rows(), "study: {}: {} clusters but only {} rows", what, k, x.rows());
        p.tables.push_back(cluster_table(x, labels, k, m, seed, threads,
                                         i == 0 ? &distances : nullptr,
                                         i == 0 ? &p.clusters : nullptr));
    }
    require(distances.cols() >= 2,
            "study: {}: the KMeans panel plots distances to two centres; its first K must be at "
            "least 2",
            what);
    p.x_label = "distance to centre 1";
    p.y_label = "distance to centre 2";
    p.subtitle = fmt_params(m);
    Matrix y(distances.rows(), 2);
    for (size_t r = 0; r < y.rows(); ++r) y(r, 0) = distances(r, 0), y(r, 1) = distances(r, 1);
    return y;
}

PanelMetrics panel_metrics(ConstMatView x, ConstMatView xy, const Labels& labels, uint64_t seed,
                           int threads) {
    PanelMetrics m;
    if (labels.n_classes() > 1) {
        m.knn_accuracy = knn_cv_accuracy(xy, labels.codes, 10, 5, threads).mean;
        m.silhouette = silhouette_score(xy, labels.codes, 5000, seed, threads).value;
    }
    if (xy.rows() > 10) {
        m.trustworthiness = trustworthiness(x, xy, 5, 2000, seed, threads).value;
    }
    return m;
}

json panel_json(const Panel& p) {
    json j = {{"x_label", p.x_label},
              {"y_label", p.y_label},
              {"subtitle", p.subtitle},
              {"seconds", p.seconds},
              {"knn_accuracy", p.metrics.knn_accuracy},
              {"silhouette", p.metrics.silhouette},
              {"trustworthiness", p.metrics.trustworthiness},
              {"tables", json::array()}};
    for (const auto& t : p.tables) {
        j["tables"].push_back({{"k", t.k},
                               {"counts", t.counts},
                               {"inertia", t.inertia},
                               {"majority_accuracy", t.majority_accuracy},
                               {"matched_accuracy", t.matched_accuracy},
                               {"ari", t.ari},
                               {"nmi", t.nmi}});
    }
    return j;
}

void read_panel_json(const fs::path& path, Panel& p) {
    std::ifstream in(path);
    const json j = json::parse(in);
    p.x_label = j.at("x_label");
    p.y_label = j.at("y_label");
    p.subtitle = j.at("subtitle");
    p.seconds = j.at("seconds");
    p.metrics = {j.at("knn_accuracy"), j.at("silhouette"), j.at("trustworthiness")};
    for (const auto& t : j.at("tables")) {
        ClusterTable ct;
        ct.k = t.at("k");
        ct.counts = t.at("counts").get<std::vector<std::vector<int64_t>>>();
        ct.inertia = t.at("inertia");
        ct.majority_accuracy = t.at("majority_accuracy");
        ct.matched_accuracy = t.at("matched_accuracy");
        ct.ari = t.at("ari");
        ct.nmi = t.at("nmi");
        p.tables.push_back(ct);
    }
}

}  // namespace

Panel make_panel(const FeatureSet& f, const StudyMethod& m, const Labels& labels,
                 const fs::path& out_dir, const StepCache& cache, uint64_t seed, int threads,
                 const std::function<const Matrix&()>& load_features) {
    Panel p;
    p.prompt = f.prompt;
    p.output = f.output;
    p.scaling = f.scaling;
    p.method = m;
    const fs::path base = out_dir / "panels" / f.prompt / f.output / f.scaling;
    const fs::path npy = base / (m.id + ".npy"), meta = base / (m.id + ".json");
    const fs::path clusters = base / (m.id + ".clusters.npy");
    std::vector<fs::path> outputs = {npy, meta};
    if (m.method == "kmeans") outputs.push_back(clusters);
    const std::string step = fmt::format("panel/{}/{}/{}/{}", f.prompt, f.output, f.scaling, m.id);
    const std::string key = key_of(json{
        {"features", f.identity},
        {"scaling", f.scaling},
        {"method", method_json(m)},
        {"seed", seed},
        {"version", 1}}.dump());
    if (cache.fresh(step, key, outputs)) {
        p.xy = read_npy_matrix(npy);
        read_panel_json(meta, p);
        if (m.method == "kmeans") {
            const auto v = read_npy_ints(clusters);
            p.clusters.assign(v.begin(), v.end());
        }
        p.reused = true;
        return p;
    }
    const auto start = std::chrono::steady_clock::now();
    const Matrix& x = load_features();
    p.xy = compute_embedding(x.view(), m, labels, seed, threads, p);
    p.metrics = panel_metrics(x.view(), p.xy.view(), labels, seed, threads);
    p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fs::create_directories(base);
    write_npy(npy, p.xy);
    if (m.method == "kmeans") write_npy(clusters, std::span<const int32_t>(p.clusters));
    write_text_file(meta, panel_json(p).dump(1) + "\n");
    cache.record(step, key);
    return p;
}

}  // namespace promptlens
