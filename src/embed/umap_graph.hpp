// UMAP's fuzzy simplicial set (umap-learn 0.5 `fuzzy_simplicial_set`): from each row's k nearest
// neighbours, a local fuzzy set with membership exp(−(d − ρ_i)/σ_i) — ρ_i the distance to the
// nearest non-identical neighbour (local connectivity 1), σ_i found by bisection so the
// memberships sum to log2(k) (`smooth_knn_dist`) — then the fuzzy union of the local sets,
// A + Aᵀ − A∘Aᵀ (set_op_mix_ratio 1). Supervised UMAP intersects this graph with a categorical
// one (`discrete_metric_simplicial_set_intersection`): edges between different labels are scaled
// by exp(−far_dist), edges touching an unknown label (−1) by exp(−1), then every row is rescaled
// to max 1 and the union taken again (`reset_local_connectivity`).
//
// umap-learn's conventions are kept, quirks included: each neighbour list starts with the row
// itself (distance 0, membership 0, dropped), the bisection skips the list's first entry, values
// are float32 with float64 bisection. The result is a symmetric CSR matrix, columns sorted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "metrics/neighbors.hpp"

namespace promptlens {

// An n×m sparse matrix in CSR form (n = m and symmetric for the fuzzy graph).
struct SparseGraph {
    size_t rows = 0, cols = 0;
    std::vector<int64_t> indptr;   // rows + 1
    std::vector<int32_t> indices;  // nnz column indices, sorted within each row
    std::vector<float> values;     // nnz memberships in (0, 1]
    size_t nnz() const { return indices.size(); }
    float max_value() const;
};

struct SmoothKnn {
    std::vector<float> sigmas, rhos;  // one per row
};

// knn: each row's neighbour list (sorted by distance; for a fit the row itself first).
// `local_connectivity` 1 for a fit, 0 for transform (umap-learn subtracts 1 there).
SmoothKnn smooth_knn_dist(const Neighbors& knn, double local_connectivity, int threads);

// The k·n directed memberships as a CSR matrix (rows = queries, cols = `cols`), zeros dropped;
// entries equal to the row's own index are given 0 (and so dropped) unless `bipartite`.
SparseGraph membership_strengths(const Neighbors& knn, const SmoothKnn& s, size_t cols,
                                 bool bipartite);

// A + Aᵀ − A∘Aᵀ for a square A, zeros dropped.
SparseGraph fuzzy_union(const SparseGraph& a);

// The whole fit graph: smooth_knn_dist, membership_strengths, fuzzy_union. knn has the row
// itself first in every list (see umap_neighbors in umap.hpp).
SparseGraph fuzzy_simplicial_set(const Neighbors& knn, int threads, SmoothKnn* smooth = nullptr);

// Categorical intersection with labels (n entries, −1 = unknown), then the local connectivity
// reset. far_dist = 2.5 / (1 − target_weight) for target_weight < 1, else 1e12 (umap-learn).
SparseGraph categorical_intersection(const SparseGraph& g, std::span<const int32_t> labels,
                                     double far_dist, double unknown_dist = 1.0);
double categorical_far_dist(double target_weight);

// The entries ≥ cut (umap-learn drops those below max/n_epochs before the layout).
SparseGraph prune_graph(const SparseGraph& g, float cut);

}  // namespace promptlens
