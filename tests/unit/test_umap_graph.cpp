// umap_graph: smooth_knn_dist and the fuzzy union against umap-learn on digits (exact k-NN,
// k = 15), the categorical intersection of supervised UMAP, and edge cases.
#include <gtest/gtest.h>

#include <cmath>

#include "embed/umap_graph.hpp"
#include "test_umap_golden.hpp"

namespace promptlens {
namespace {

struct DigitsGraph {
    Neighbors knn;
    SmoothKnn smooth;
    SparseGraph graph;
};

const DigitsGraph& digits_graph() {
    static const DigitsGraph d = [] {
        DigitsGraph g;
        const auto& x = test::umap_golden().x;
        g.knn = umap_neighbors(x, x, 15, UmapMetric::euclidean, true, 2);
        g.graph = fuzzy_simplicial_set(g.knn, 2, &g.smooth);
        return g;
    }();
    return d;
}

// Row r of `ours` against row r of `ref` (same columns expected), for every stored row.
::testing::AssertionResult rows_close(const SparseGraph& ours, const SparseGraph& ref,
                                      double atol) {
    for (size_t r = 0; r < ref.rows; ++r) {
        const int64_t n0 = ours.indptr[r + 1] - ours.indptr[r],
                      n1 = ref.indptr[r + 1] - ref.indptr[r];
        if (n0 != n1)
            return ::testing::AssertionFailure()
                   << "row " << r << ": " << n0 << " vs " << n1 << " entries";
        for (int64_t p = 0; p < n0; ++p) {
            const int64_t a = ours.indptr[r] + p, b = ref.indptr[r] + p;
            if (ours.indices[a] != ref.indices[b])
                return ::testing::AssertionFailure()
                       << "row " << r << ": column " << ours.indices[a] << " vs " << ref.indices[b];
            if (!(std::fabs(ours.values[a] - ref.values[b]) <= atol))
                return ::testing::AssertionFailure()
                       << "row " << r << " column " << ours.indices[a] << ": " << ours.values[a]
                       << " vs " << ref.values[b];
        }
    }
    return ::testing::AssertionSuccess();
}

TEST(UmapGraph, SmoothKnnDistMatchesUmapLearn) {
    const auto& g = test::umap_golden();
    const auto& d = digits_graph();
    // ρ is a k-NN distance: both sides compute it in float64 and round to float32 (ours after
    // re-ranking the GEMM candidates exactly): equal to float32 rounding.
    EXPECT_TRUE(test::all_close(d.smooth.rhos, g.get("rhos"), 0, 1e-7));
    // σ is a bisection stopped at |Σ − log2 k| < 1e-5, which pins σ only to ~1e-5 relative;
    // numba's fastmath exp and summation order decide the last step (worst seen: 3e-6).
    EXPECT_TRUE(test::all_close(d.smooth.sigmas, g.get("sigmas"), 0, 1e-5));
}

TEST(UmapGraph, FuzzyUnionMatchesUmapLearn) {
    const auto& g = test::umap_golden();
    const auto& d = digits_graph();
    EXPECT_EQ(d.graph.nnz(), static_cast<size_t>(g.get("graph_nnz_total")[0]));
    // Memberships exp(−(d − ρ)/σ) ≤ 1 inherit σ's ~3e-6 relative error times (d − ρ)/σ·e^(−…)
    // ≤ 1/e: atol 1e-5 (worst seen 1.6e-6); the total over 34,236 entries to 1e-5 relative.
    EXPECT_TRUE(rows_close(d.graph, g.graph_rows("graph"), 1e-5));
    double sum = 0;
    for (float v : d.graph.values) sum += v;
    EXPECT_NEAR(sum, g.get("graph_sum_total")[0], 1e-5 * g.get("graph_sum_total")[0]);
    // Symmetric, no self loops.
    for (size_t r = 0; r < d.graph.rows; ++r)
        for (int64_t p = d.graph.indptr[r]; p < d.graph.indptr[r + 1]; ++p)
            ASSERT_NE(d.graph.indices[p], static_cast<int32_t>(r));
}

TEST(UmapGraph, CategoricalIntersectionMatchesUmapLearn) {
    const auto& g = test::umap_golden();
    const SparseGraph s =
        categorical_intersection(digits_graph().graph, g.labels, categorical_far_dist(0.5));
    EXPECT_DOUBLE_EQ(categorical_far_dist(0.5), 5.0);
    EXPECT_EQ(s.nnz(), static_cast<size_t>(g.get("graph_supervised_nnz_total")[0]));
    // Same inputs as the unsupervised graph, then a per-row max normalisation (a division) and
    // the union again: the same 1e-5 (worst seen 2.3e-6).
    EXPECT_TRUE(rows_close(s, g.graph_rows("graph_supervised"), 1e-5));
}

TEST(UmapGraph, IdenticalRowsGiveFiniteMemberships) {
    // 30 identical rows and 3 others: every distance to a twin is 0, so ρ = 0 for those rows and
    // σ falls back to 1e-3 × the mean distance. No NaN, no infinity, memberships in (0, 1].
    Matrix x(33, 4, 1.0f);
    for (size_t i = 30; i < 33; ++i) x(i, 0) = static_cast<float>(i);
    const Neighbors knn = umap_neighbors(x, x, 15, UmapMetric::euclidean, true, 1);
    SmoothKnn s;
    const SparseGraph g = fuzzy_simplicial_set(knn, 1, &s);
    for (float v : s.sigmas) EXPECT_TRUE(std::isfinite(v) && v >= 0);
    for (float v : g.values) EXPECT_TRUE(v > 0 && v <= 1) << v;
    // All identical: σ = 0, memberships 1.
    Matrix same(20, 3, 2.0f);
    const SparseGraph h =
        fuzzy_simplicial_set(umap_neighbors(same, same, 5, UmapMetric::euclidean, true, 1), 1);
    for (float v : h.values) EXPECT_EQ(v, 1.0f);
}

}  // namespace
}  // namespace promptlens
