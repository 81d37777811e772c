// Best one-to-one matching of clusters to classes: the accuracy a clustering reaches when each
// cluster may stand for a different class (scipy's linear_sum_assignment with maximize=True on
// the contingency table). Works for any shape: with more clusters than classes the extra
// clusters stay unmatched (their rows count as errors), with fewer some classes are never
// predicted. Solved exactly with the Hungarian algorithm (shortest augmenting paths with
// potentials, O(r²·c) for r = min(clusters, classes)) in integer arithmetic.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/matrix.hpp"
#include "metrics/contingency.hpp"

namespace promptlens {

struct Matching {
    double accuracy = 0;                    // matched counts / N
    std::vector<int32_t> class_of_cluster;  // per cluster; -1 = cluster left unmatched
};

Matching matched_accuracy(const Contingency& t);

// Maximum-weight assignment on a rows×cols table of non-negative integer weights (row-major):
// returns, per row, its column or -1; exactly min(rows, cols) rows are matched.
std::vector<int32_t> max_weight_assignment(std::span<const int64_t> weights, size_t rows,
                                           size_t cols);

}  // namespace promptlens
