#include "metrics/matching.hpp"

#include <limits>

#include "core/error.hpp"

namespace promptlens {
namespace {

// Minimum-cost assignment of every one of n rows to a distinct column of m ≥ n columns
// (cost is n×m, row-major); returns the column of each row. Classic potentials formulation with
// 1-based sentinels (row 0 / column 0 are the virtual start).
std::vector<size_t> hungarian_min(const std::vector<int64_t>& cost, size_t n, size_t m) {
    constexpr int64_t inf = std::numeric_limits<int64_t>::max() / 4;
    std::vector<int64_t> u(n + 1, 0), v(m + 1, 0);
    std::vector<size_t> p(m + 1, 0), way(m + 1, 0);  // p[j]: row matched to column j (1-based)
    for (size_t i = 1; i <= n; ++i) {
        p[0] = i;
        size_t j0 = 0;
        std::vector<int64_t> minv(m + 1, inf);
        std::vector<char> used(m + 1, 0);
        do {
            used[j0] = 1;
            const size_t i0 = p[j0];
            int64_t delta = inf;
            size_t j1 = 0;
            for (size_t j = 1; j <= m; ++j) {
                if (used[j]) continue;
                const int64_t cur = cost[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if (minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for (size_t j = 0; j <= m; ++j) {
                if (used[j]) {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
        } while (p[j0] != 0);
        do {
            const size_t j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0 != 0);
    }
    std::vector<size_t> col_of_row(n, 0);
    for (size_t j = 1; j <= m; ++j)
        if (p[j] != 0) col_of_row[p[j] - 1] = j - 1;
    return col_of_row;
}

}  // namespace

std::vector<int32_t> max_weight_assignment(std::span<const int64_t> weights, size_t rows,
                                           size_t cols) {
    require(weights.size() == rows * cols, "assignment: {} weights for a {}x{} table",
            weights.size(), rows, cols);
    std::vector<int32_t> result(rows, -1);
    if (rows == 0 || cols == 0) return result;
    // Maximise w ⇔ minimise -w. The solver needs rows ≤ columns: transpose otherwise.
    const bool transpose = rows > cols;
    const size_t n = transpose ? cols : rows, m = transpose ? rows : cols;
    std::vector<int64_t> cost(n * m);
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < m; ++j)
            cost[i * m + j] = -(transpose ? weights[j * cols + i] : weights[i * cols + j]);
    const auto match = hungarian_min(cost, n, m);
    for (size_t i = 0; i < n; ++i) {
        if (transpose)
            result[match[i]] = static_cast<int32_t>(i);
        else
            result[i] = static_cast<int32_t>(match[i]);
    }
    return result;
}

Matching matched_accuracy(const Contingency& t) {
    require(t.counts.size() == t.clusters * t.classes,
            "matched_accuracy: contingency table has {} counts for {}x{} (clusters x classes)",
            t.counts.size(), t.clusters, t.classes);
    const int64_t n = t.total();
    require(n > 0, "matched_accuracy: the table is empty (0 rows)");
    Matching m;
    m.class_of_cluster = max_weight_assignment(t.counts, t.clusters, t.classes);
    int64_t hits = 0;
    for (size_t r = 0; r < t.clusters; ++r) {
        const int32_t c = m.class_of_cluster[r];
        if (c >= 0) hits += t.at(r, static_cast<size_t>(c));
    }
    m.accuracy = static_cast<double>(hits) / static_cast<double>(n);
    return m;
}

}  // namespace promptlens
