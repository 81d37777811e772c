// `promptlens metrics`: how well an embedding (PCA, t-SNE, UMAP coordinates, or any features)
// separates the labels: cross-validated k-NN accuracy, silhouette and, given the original
// features, trustworthiness.
#include <fmt/format.h>

#include "apps/commands.hpp"
#include "apps/common.hpp"
#include "apps/summary.hpp"
#include "core/error.hpp"

namespace promptlens::cli {
namespace {

struct MetricsOptions {
    std::string coords, labels, features, json;
    EmbeddingOptions embedding;
};

void run_metrics(MetricsOptions o) {
    check_output_paths({o.json});
    Matrix y = load_features(o.coords, false, o.embedding.threads);
    Labels labels = load_labels(o.labels, y.rows(), o.coords);
    Matrix x;
    if (!o.features.empty()) {
        x = load_features(o.features, false, o.embedding.threads);
        require(x.rows() == y.rows(), "{} has {} rows but {} has {}; expected the same rows",
                o.features, x.rows(), o.coords, y.rows());
    }
    EmbeddingSummary s = summarize_embedding(y, labels, x, o.embedding);
    fmt::print("{} ({} x {}), {} labels in {} classes\n", o.coords, y.rows(), y.cols(),
               labels.size(), labels.n_classes());
    fmt::print("{}", format_text(s));
    if (!o.json.empty()) {
        auto j = to_json(s);
        j["coords"] = o.coords;
        if (!o.features.empty()) j["features"] = o.features;
        save_text(o.json, j.dump(2) + "\n");
    }
}

}  // namespace

void setup_metrics(CLI::App& app) {
    auto o = std::make_shared<MetricsOptions>();
    auto* sub = app.add_subcommand("metrics",
                                   "Separation metrics of an embedding: k-NN accuracy, silhouette, "
                                   "trustworthiness");
    auto& e = o->embedding;
    sub->add_option("--coords", o->coords, "N x m embedding (.npy, .csv or .tsv)")->required();
    sub->add_option("--labels", o->labels, "Text file, one label per row")->required();
    sub->add_option("--features", o->features,
                    "The original N x d features: adds trustworthiness (how well the embedding "
                    "keeps each row's original neighbours)");
    sub->add_flag("--knn-original", e.knn_in_features,
                  "With --features, also the k-NN accuracy in the original space (a baseline for "
                  "the embedding's; costs N^2 d)");
    sub->add_option("--k", e.knn_k, "k of the k-NN classifier")
        ->capture_default_str()
        ->check(kPositive);
    sub->add_option("--folds", e.folds, "Stratified cross-validation folds")
        ->capture_default_str()
        ->check(CLI::Range(2, 1000));
    sub->add_option("--trust-k", e.trust_k, "Neighbours for trustworthiness")
        ->capture_default_str()
        ->check(kPositive);
    sub->add_option("--silhouette-samples", e.silhouette_samples,
                    "Rows sampled for the silhouette (0 = all; exact cost grows as N^2)")
        ->capture_default_str();
    sub->add_option("--trust-samples", e.trust_samples,
                    "Query rows sampled for trustworthiness (0 = all)")
        ->capture_default_str();
    sub->add_option("--json", o->json, "Also write the metrics as JSON");
    add_seed_option(sub, e.seed);
    e.threads = 0;
    add_threads_option(sub, e.threads);
    sub->callback([o] { run_metrics(*o); });
}

}  // namespace promptlens::cli
