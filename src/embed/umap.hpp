// UMAP (McInnes, Healy & Melville 2018) with umap-learn 0.5's semantics and defaults: k-NN graph
// (exact up to 10,000 rows, NN-descent above; umap-learn switches at 4,096 rows), fuzzy simplicial
// set (umap_graph.hpp), optional categorical supervision (fit(X, y)), spectral initialisation
// (umap_spectral.hpp), then SGD (umap_layout.hpp); and transform of new rows into a fitted
// embedding. The pieces live one per file; this file strings them together as umap-learn's
// `UMAP.fit` / `UMAP.transform` do.
//
// Deterministic: a seed gives identical bytes for any thread count (see umap_layout.hpp for how
// the SGD is parallel without Hogwild races). Deviations from umap-learn, all deliberate:
// SGD schedule (parallel one by default, umap-learn's serial loop on request), the RNG, exact
// neighbours up to 10,000 rows, rows without edges keep their initial position (umap-learn sets
// them to NaN), and init = pca (umap-learn ≥ 0.5.4 has it; 0.5.3 does not).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/matrix.hpp"
#include "embed/umap_graph.hpp"
#include "embed/umap_layout.hpp"
#include "metrics/neighbors.hpp"

namespace promptlens {

enum class UmapInit { spectral, random, pca };
enum class UmapMetric { euclidean, cosine };

struct UmapOptions {
    size_t n_neighbors = 15;     // neighbourhood size, counting the row itself (2..N−1); larger
                                 // values see more global structure, smaller more local
    size_t components = 2;       // output dimensions
    double min_dist = 0.1;       // how tightly points may pack (0 = clumps, 1 = even spread)
    double spread = 1.0;         // the scale of the embedded points (with min_dist fixes a, b)
    size_t epochs = 0;           // 0 = umap-learn's default: 500 for ≤ 10,000 rows, else 200
    double learning_rate = 1.0;  // initial SGD step, decays linearly to 0
    double negative_sample_rate = 5.0;  // negatives per positive sample: more = slower, crisper
    double repulsion_strength = 1.0;    // gamma: weight of the negative samples
    UmapInit init = UmapInit::spectral;
    UmapMetric metric = UmapMetric::euclidean;
    double target_weight = 0.5;  // supervised only: 0 = labels barely matter, 1 = only labels
    UmapSchedule schedule = UmapSchedule::parallel;  // serial = umap-learn's loop (reference)
    uint64_t seed = 0;
    int threads = 1;  // 0 = all hardware threads; the result does not depend on it
};

struct UmapModel {
    Matrix embedding;   // N×components
    SparseGraph graph;  // the fuzzy graph (after supervision, before pruning), N×N
    double a = 0, b = 0;
    size_t n_neighbors = 0;  // as used (truncated to N−1 for tiny inputs)
    size_t epochs = 0;       // as used
    UmapOptions options;
    bool supervised = false;
    // The training data's shape and fingerprint: transform checks it is given the same rows.
    size_t train_rows = 0, train_cols = 0;
    uint64_t train_fingerprint = 0;
    // Details.
    size_t graph_components = 0;
    bool spectral_converged = true;
    std::vector<std::string> notes;                    // things said aloud: truncations, fallbacks
    std::vector<std::pair<size_t, double>> objective;  // (epochs done, objective), see UmapSgd
    double seconds_neighbors = 0, seconds_graph = 0, seconds_init = 0, seconds_sgd = 0;
};

// stage is "neighbors", "graph", "init" or "sgd"; for sgd, done/total are epochs and objective
// the current UmapSgd::objective() (NaN on epochs where it is not computed).
using UmapProgress =
    std::function<void(const char* stage, size_t done, size_t total, double objective)>;

// x is N×d (finite); labels empty or N entries (−1 = unknown) for supervised UMAP with a
// categorical target (umap-learn's fit(X, y), target_metric "categorical").
UmapModel umap_fit(ConstMatView x, const UmapOptions& options, std::span<const int32_t> labels = {},
                   const UmapProgress& progress = {});

// Embeds new rows (Q×d) into model.embedding, as umap-learn's transform: k nearest training
// rows, memberships with local connectivity 0, weighted-mean start, SGD against the fixed
// embedding (epochs/3, or 100 for ≤ 10,000 new rows else 30; learning rate / 4). `train` must be
// the rows the model was fitted on (checked by fingerprint).
Matrix umap_transform(const UmapModel& model, ConstMatView train, ConstMatView new_rows,
                      const UmapProgress& progress = {});

// Each query's k nearest rows of `data` under the metric (cosine: 1 − cos): exact up to 10,000
// rows, NN-descent candidates above (recall ≥ 0.99), re-ranked in double either way. With
// `self_first` (queries = data), the row itself comes first and k − 1 others follow.
Neighbors umap_neighbors(ConstMatView data, ConstMatView queries, size_t k, UmapMetric metric,
                         bool self_first, int threads);

// A cheap fingerprint of a matrix's bytes (shape and a strided sample of values).
uint64_t umap_fingerprint(ConstMatView x);

}  // namespace promptlens
