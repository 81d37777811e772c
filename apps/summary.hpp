// What the commands print and save about a clustering or an embedding: the seed notebook's
// purity table (cluster × label, normalised per cluster) with the scores that summarise it, and
// the separation metrics of an embedding; as aligned text, CSV and JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <span>
#include <string>

#include "core/labels.hpp"
#include "core/matrix.hpp"
#include "metrics/contingency.hpp"
#include "metrics/knn_accuracy.hpp"
#include "metrics/matching.hpp"
#include "metrics/silhouette.hpp"

namespace promptlens::cli {

struct ClusterSummary {
    std::vector<std::string> classes;  // label names, the table's columns
    Contingency table;                 // clusters × classes counts
    MatrixD purity;                    // rows sum to 1
    double majority_accuracy = 0, matched_accuracy = 0, ari = 0, nmi = 0;
    std::vector<int32_t> class_of_cluster;  // the one-to-one matching (-1: unmatched)
};

ClusterSummary summarize_clusters(const Labels& labels, std::span<const int32_t> clusters,
                                  size_t n_clusters);
std::string format_text(const ClusterSummary& s);
std::string format_csv(const ClusterSummary& s);
nlohmann::ordered_json to_json(const ClusterSummary& s);

struct EmbeddingOptions {
    size_t knn_k = 10, folds = 5;
    size_t trust_k = 5;
    size_t silhouette_samples = 10000;  // 0 = every row
    size_t trust_samples = 2000;        // 0 = every row
    bool knn_in_features = false;       // also k-NN accuracy in the original space (N² d work)
    uint64_t seed = 0;
    int threads = 1;
};

struct EmbeddingSummary {
    KnnAccuracy knn;
    SampledScore silhouette;
    std::optional<SampledScore> trustworthiness;  // only with the original features
    std::optional<KnnAccuracy> knn_features;      // k-NN accuracy in the original space
};

// `features` may be empty (rows() == 0): then no trustworthiness nor original-space accuracy.
EmbeddingSummary summarize_embedding(ConstMatView coords, const Labels& labels,
                                     ConstMatView features, const EmbeddingOptions& options);
std::string format_text(const EmbeddingSummary& s);
nlohmann::ordered_json to_json(const EmbeddingSummary& s);

}  // namespace promptlens::cli
