// Approximate k-NN (NN-descent) against the exact index at the k t-SNE and UMAP use, cosine
// against its double-loop oracle, thread-count determinism, duplicates, input errors, exclusion.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "core/npy.hpp"
#include "core/rng.hpp"
#include "metrics/neighbor_index.hpp"
#include "test_helpers.hpp"

namespace promptlens {
namespace {

constexpr size_t kTsneK = 91;  // 3·perplexity + 1 at perplexity 30
constexpr size_t kUmapK = 14;  // n_neighbors = 15 counts the point itself

// n points around `clusters` Gaussian centres in d dimensions, a rough stand-in for embeddings.
Matrix clustered(size_t n, size_t d, size_t clusters, uint64_t seed) {
    Rng rng(seed);
    Matrix centres(clusters, d), x(n, d);
    for (float& v : centres.values()) v = static_cast<float>(3.0 * rng.normal());
    for (size_t i = 0; i < n; ++i) {
        const size_t c = rng.below(clusters);
        for (size_t j = 0; j < d; ++j) x(i, j) = centres(c, j) + static_cast<float>(rng.normal());
    }
    return x;
}

double recall(const Neighbors& approx, const Neighbors& exact) {
    size_t hits = 0;
    for (size_t q = 0; q < exact.queries; ++q) {
        auto a = approx.of(q), e = exact.of(q);
        for (int32_t j : a) hits += std::find(e.begin(), e.end(), j) != e.end();
    }
    return static_cast<double>(hits) / static_cast<double>(exact.index.size());
}

Neighbors approx_self(ConstMatView x, size_t k, Metric metric, int threads = 2, uint64_t seed = 0) {
    NeighborIndexOptions o;
    o.method = NeighborMethod::approximate;
    o.metric = metric;
    o.max_k = k;
    o.seed = seed;
    o.threads = threads;
    return self_neighbors(*make_neighbor_index(x, o), x, k, threads);
}

Neighbors exact_self(ConstMatView x, size_t k, Metric metric) {
    return self_neighbors(ExactNeighbors(x, metric), x, k, 2);
}

// The acceptance test: recall ≥ 0.99 at both k, both metrics, on digits (1797×64) and on
// clustered 5,000×64 data.
TEST(NeighborsApprox, RecallOnDigits) {
    const Matrix x = read_npy_matrix(test::data_path("digits/X.npy"));
    for (Metric m : {Metric::euclidean, Metric::cosine}) {
        for (size_t k : {kUmapK, kTsneK}) {
            SCOPED_TRACE(std::string(metric_name(m)) + " k=" + std::to_string(k));
            EXPECT_GE(recall(approx_self(x, k, m), exact_self(x, k, m)), 0.99);
        }
    }
}

TEST(NeighborsApprox, RecallOnClusteredData) {
    const Matrix x = clustered(5000, 64, 20, 7);
    for (Metric m : {Metric::euclidean, Metric::cosine}) {
        SCOPED_TRACE(metric_name(m));
        EXPECT_GE(recall(approx_self(x, kUmapK, m), exact_self(x, kUmapK, m)), 0.99);
    }
}

TEST(NeighborsApprox, RecallOnClusteredDataAtTsneK) {
    const Matrix x = clustered(5000, 64, 20, 8);
    EXPECT_GE(
        recall(approx_self(x, kTsneK, Metric::euclidean), exact_self(x, kTsneK, Metric::euclidean)),
        0.99);
}

// Distances reported with the lists are the metric's: compare each entry with a direct double
// computation. GEMM-form d² in float carries ~1e-6 relative error on these norms.
TEST(NeighborsApprox, DistancesAreTheMetrics) {
    const Matrix x = clustered(1200, 48, 6, 9);
    for (Metric m : {Metric::euclidean, Metric::cosine}) {
        SCOPED_TRACE(metric_name(m));
        const Neighbors nb = approx_self(x, 10, m);
        std::vector<float> direct;
        for (size_t q = 0; q < nb.queries; ++q)
            for (int32_t j : nb.of(q)) {
                const Neighbors one = reference::knn(x.row_range(static_cast<size_t>(j), j + 1),
                                                     x.row_range(q, q + 1), 1, {}, m);
                direct.push_back(one.distance[0]);
            }
        EXPECT_TRUE(test::all_close(nb.distance, direct, 1e-4, 1e-4));
        for (size_t q = 0; q < nb.queries; ++q) {
            auto d = nb.distances_of(q);
            EXPECT_TRUE(std::is_sorted(d.begin(), d.end()));
        }
    }
}

TEST(NeighborsApprox, SameBytesForAnyThreadCount) {
    const Matrix x = clustered(3000, 40, 10, 11);
    for (Metric m : {Metric::euclidean, Metric::cosine}) {
        SCOPED_TRACE(metric_name(m));
        const Neighbors a = approx_self(x, 15, m, 1, 5), b = approx_self(x, 15, m, 2, 5),
                        c = approx_self(x, 15, m, 3, 5);
        EXPECT_EQ(a.index, b.index);
        EXPECT_EQ(a.index, c.index);
        ASSERT_EQ(a.distance.size(), c.distance.size());
        EXPECT_EQ(0, std::memcmp(a.distance.data(), b.distance.data(), a.distance.size() * 4));
        EXPECT_EQ(0, std::memcmp(a.distance.data(), c.distance.data(), a.distance.size() * 4));
    }
    // A different seed is a different (still good) graph.
    EXPECT_NE(approx_self(x, 15, Metric::euclidean, 2, 5).index,
              approx_self(x, 15, Metric::euclidean, 2, 6).index);
}

// Many identical rows: RP splits degenerate (all margins 0), every pair distance is 0. Must end,
// with lists of distinct rows that never contain the row itself and only zero distances.
TEST(NeighborsApprox, ManyDuplicatesTerminate) {
    Matrix x = clustered(800, 16, 4, 12);
    for (size_t i = 0; i < 500; ++i) std::copy(x.row(0).begin(), x.row(0).end(), x.row(i).begin());
    for (Metric m : {Metric::euclidean, Metric::cosine}) {
        const Neighbors nb = approx_self(x, 15, m);
        for (size_t q = 0; q < nb.queries; ++q) {
            std::vector<int32_t> row(nb.of(q).begin(), nb.of(q).end());
            EXPECT_EQ(std::count(row.begin(), row.end(), static_cast<int32_t>(q)), 0);
            std::sort(row.begin(), row.end());
            EXPECT_EQ(std::adjacent_find(row.begin(), row.end()), row.end());
            if (q < 500) {
                for (float d : nb.distances_of(q)) EXPECT_LE(d, 1e-3f);
            }
        }
    }
    Matrix same(300, 8, 1.5f);  // all rows identical
    const Neighbors nb = approx_self(same, 15, Metric::euclidean);
    EXPECT_EQ(nb.queries, 300u);
}

TEST(NeighborsApprox, InputErrors) {
    const Matrix x = clustered(50, 8, 2, 13);
    NeighborIndexOptions o;
    o.method = NeighborMethod::approximate;
    o.max_k = 50;  // k = N: not enough other rows
    EXPECT_THROW(make_neighbor_index(x, o), Error);
    o.method = NeighborMethod::exact;
    EXPECT_THROW(make_neighbor_index(x, o), Error);
    o.method = NeighborMethod::approximate;
    o.max_k = 10;
    const auto index = make_neighbor_index(x, o);
    EXPECT_THROW(self_neighbors(*index, x, 11, 1), Error);  // above the graph degree
    EXPECT_THROW(self_neighbors(*index, x, 50, 1), Error);  // k = N with self excluded
    Matrix nan = x;
    nan(3, 2) = NAN;
    EXPECT_THROW(make_neighbor_index(nan, o), Error);
}

// Exclusion as the exact index: self searches leave the row out; the same rows without exclusion
// list the row itself first (distance 0); foreign queries run the graph search.
TEST(NeighborsApprox, ExcludeAndForeignQueries) {
    const Matrix x = read_npy_matrix(test::data_path("digits/X.npy"));
    const ConstMatView train = x.row_range(0, 1500), test_rows = x.row_range(1500, 1797);
    NeighborIndexOptions o;
    o.method = NeighborMethod::approximate;
    o.max_k = 15;
    const auto index = make_neighbor_index(train, o);
    const Neighbors with_self = index->search(train, 10, {}, 2);
    const Neighbors without = self_neighbors(*index, train, 10, 2);
    for (size_t q = 0; q < 1500; ++q) {
        EXPECT_EQ(with_self.of(q)[0], static_cast<int32_t>(q));
        EXPECT_EQ(with_self.distances_of(q)[0], 0.0f);
        EXPECT_TRUE(std::equal(without.of(q).begin(), without.of(q).begin() + 9,
                               with_self.of(q).begin() + 1));
    }
    const ExactNeighbors exact(train);
    EXPECT_GE(recall(index->search(test_rows, 10, {}, 2), exact.search(test_rows, 10, {}, 2)),
              0.99);
    std::vector<int64_t> skip(297);
    for (size_t i = 0; i < skip.size(); ++i) skip[i] = static_cast<int64_t>(i);  // arbitrary rows
    const Neighbors a = index->search(test_rows, 10, skip, 2);
    for (size_t q = 0; q < 297; ++q)
        EXPECT_EQ(std::count(a.of(q).begin(), a.of(q).end(), static_cast<int32_t>(q)), 0);
}

// Exact cosine (GEMM on cosine_rows) against the double loop, including zero rows.
TEST(NeighborsApprox, ExactCosineMatchesReference) {
    Matrix x = clustered(600, 20, 5, 14);
    std::fill(x.row(7).begin(), x.row(7).end(), 0.0f);
    std::fill(x.row(300).begin(), x.row(300).end(), 0.0f);
    const Neighbors fast = exact_self(x, 8, Metric::cosine);
    std::vector<int64_t> self(600);
    for (size_t i = 0; i < 600; ++i) self[i] = static_cast<int64_t>(i);
    const Neighbors ref = reference::knn(x, x, 8, self, Metric::cosine);
    // 1 − cos from float32 GEMM on unit rows: ~1e-7 absolute.
    EXPECT_TRUE(test::all_close(fast.distance, ref.distance, 1e-6, 0));
    EXPECT_EQ(fast.of(7)[0], 300);  // the two zero rows are each other's nearest (distance 0)
    EXPECT_EQ(fast.distances_of(7)[0], 0.0f);
    EXPECT_NEAR(fast.distances_of(7)[1], 1.0f, 1e-6);  // and 1 from everything else
}

TEST(NeighborsApprox, AutomaticMethodBySize) {
    NeighborIndexOptions o;
    o.exact_max_rows = 100;
    EXPECT_EQ(resolve_method(o, 100), NeighborMethod::exact);
    EXPECT_EQ(resolve_method(o, 101), NeighborMethod::approximate);
    o.method = NeighborMethod::exact;
    EXPECT_EQ(resolve_method(o, 1000000), NeighborMethod::exact);
    const Matrix x = clustered(150, 8, 2, 15);
    o.method = NeighborMethod::automatic;
    EXPECT_NE(dynamic_cast<NNDescentIndex*>(make_neighbor_index(x, o).get()), nullptr);
}

}  // namespace
}  // namespace promptlens
