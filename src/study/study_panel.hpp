// One cell of a study's grid: a method (PCA, t-SNE, UMAP or KMeans) applied to one feature set
// (a prompt's hidden states or logits, raw or StandardScaler-scaled), giving a 2-D embedding for
// the panel, its separation metrics and, for KMeans, one cluster × label table per K.
//
// KMeans panels are what the seed plots: `KMeans(n_clusters=K).fit_transform(X)` — each row's
// distances to the first two centres of the first K given; every K gets its purity table.
// Metrics are computed on the 2-D panel coordinates against the labels (10-NN accuracy, 5-fold as
// the seed's cross_val_score; silhouette) and against the features (trustworthiness, k = 5,
// on a seeded sample of at most 2,000 rows for speed).
//
// Each panel is cached on disk (embedding .npy + a JSON of its metrics and tables) under a key
// hashing its input's identity, scaling, method and parameters and the seed (study/step_cache.hpp),
// so a rerun recomputes only the panels whose inputs or parameters changed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/labels.hpp"
#include "core/matrix.hpp"
#include "study/step_cache.hpp"
#include "study/study_spec.hpp"

namespace promptlens {

struct ClusterTable {
    size_t k = 0;
    std::vector<std::vector<int64_t>> counts;  // clusters × label classes
    double inertia = 0, majority_accuracy = 0, matched_accuracy = 0, ari = 0, nmi = 0;
};

struct PanelMetrics {
    double knn_accuracy = 0;     // 10-NN, 5-fold stratified CV, labels in the 2-D panel
    double silhouette = 0;       // of the labels in the 2-D panel (sampled above 5,000 rows)
    double trustworthiness = 0;  // k = 5, features vs panel (sampled above 2,000 rows)
};

struct Panel {
    std::string prompt, output, scaling;  // the grid row
    StudyMethod method;                   // the grid column
    Matrix xy;                            // N×2 panel coordinates
    std::string x_label, y_label, subtitle;
    PanelMetrics metrics;
    std::vector<ClusterTable> tables;  // KMeans only
    std::vector<int32_t> clusters;     // KMeans only: each row's cluster for the first K
    bool reused = false;               // found fresh in the cache
    double seconds = 0;                // compute time (of the run that made it)
};

// The features of one grid row, loaded (and scaled) only when a panel must be computed.
struct FeatureSet {
    std::string prompt, output, scaling;
    std::filesystem::path file;  // N×d .npy
    std::string identity;        // content identity of the file (for cache keys)
};

// Computes or reuses the panel of `method` on `features`. Panel outputs live under
// out_dir/panels/<prompt>/<output>/<scaling>/<method id>.{npy,json} (+ .clusters.npy for KMeans).
Panel make_panel(const FeatureSet& features, const StudyMethod& method, const Labels& labels,
                 const std::filesystem::path& out_dir, const StepCache& cache, uint64_t seed,
                 int threads, const std::function<const Matrix&()>& load_features);

}  // namespace promptlens
