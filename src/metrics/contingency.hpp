// Agreement between a clustering and the true classes, all computed from one clusters×classes
// count table: the seed notebook's purity table (each cluster's class mix), majority-vote
// accuracy, the adjusted Rand index and normalised mutual information. Semantics follow
// scikit-learn 1.2.1 (`contingency_matrix`, `adjusted_rand_score`,
// `normalized_mutual_info_score` with the arithmetic mean); rows or columns with no members are
// ignored exactly as sklearn never sees labels that do not occur.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/matrix.hpp"

namespace promptlens {

struct Contingency {  // clusters × classes counts
    size_t clusters = 0, classes = 0;
    std::vector<int64_t> counts;  // row-major clusters×classes
    int64_t at(size_t cluster, size_t cls) const { return counts[cluster * classes + cls]; }
    int64_t total() const;
};

// clusters[i] in [0, n_clusters), classes[i] in [0, n_classes), both of length N.
Contingency contingency(std::span<const int32_t> clusters, size_t n_clusters,
                        std::span<const int32_t> classes, size_t n_classes);

// Row-normalised table (clusters×classes, rows sum to 1): the seed notebook's purity table.
// A cluster with no members gets a row of zeros.
MatrixD purity_table(const Contingency& t);

// Each cluster votes its majority class: Σ_clusters max_class count / N.
double majority_accuracy(const Contingency& t);

// sklearn adjusted_rand_score (pair counting; 1.0 when both labelings agree on every pair).
double adjusted_rand_index(const Contingency& t);

// sklearn normalized_mutual_info_score, arithmetic-mean normalisation (its default).
double normalized_mutual_info(const Contingency& t);

}  // namespace promptlens
