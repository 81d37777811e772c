// Exact k-NN: the blocked GEMM / direct path against the brute-force double loop, tie order,
// exclusion, thread-count determinism, input checks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "metrics/distances.hpp"
#include "metrics/neighbors.hpp"
#include "test_helpers.hpp"

namespace promptlens {
namespace {

Matrix random_matrix(size_t n, size_t d, uint64_t seed, bool integers) {
    Rng rng(seed);
    Matrix m(n, d);
    for (float& v : m.values())
        v = integers ? static_cast<float>(rng.below(4)) : static_cast<float>(rng.normal() + 3.0);
    return m;
}

Neighbors search_self(ConstMatView x, size_t k, int threads) {
    return self_neighbors(ExactNeighbors(x), x, k, threads);
}

// Small integers: float32 GEMM and the direct loop are then exact, so the lists must be
// identical to the oracle, including the many ties (broken by lower index).
TEST(MetricsNeighbors, ExactOnIntegerDataIncludingTies) {
    for (size_t d : {2, 3, 20}) {  // direct path (d ≤ 8) and GEMM path
        SCOPED_TRACE(d);
        const Matrix x = random_matrix(700, d, 5 + d, true);
        const Neighbors fast = search_self(x, 7, 2);
        std::vector<int64_t> self(x.rows());
        for (size_t i = 0; i < self.size(); ++i) self[i] = static_cast<int64_t>(i);
        const Neighbors ref = reference::knn(x, x, 7, self);
        EXPECT_EQ(fast.index, ref.index);
        EXPECT_EQ(fast.distance, ref.distance);
    }
}

// Continuous data: float32 GEMM rounding (|x|² ≈ 9·d, ε ≈ 6e-8) perturbs d² by ~1e-5 absolute,
// so neighbours may swap only where the oracle's distances are that close; distances agree to
// 1e-4 relative.
TEST(MetricsNeighbors, GemmPathMatchesOracleOnContinuousData) {
    const Matrix x = random_matrix(2300, 40, 3, false);  // 2300 > one 2048-row data tile
    const Matrix q = random_matrix(300, 40, 4, false);   // 300 > one 256-query block
    const Neighbors fast = ExactNeighbors(x).search(q, 10, {}, 2);
    const Neighbors ref = reference::knn(x, q, 10, {});
    EXPECT_TRUE(test::all_close(fast.distance, ref.distance, 0, 1e-4));
    size_t swapped = 0;
    for (size_t i = 0; i < fast.index.size(); ++i) {
        if (fast.index[i] == ref.index[i]) continue;
        ++swapped;
        EXPECT_NEAR(fast.distance[i], ref.distance[i], 1e-4 * ref.distance[i]);
    }
    EXPECT_LT(swapped, 10u);
}

TEST(MetricsNeighbors, DistanceTilesMatchReference) {
    const Matrix x = random_matrix(50, 30, 8, false), q = random_matrix(20, 30, 9, false);
    const auto xn = sq_norms(x), qn = sq_norms(q);
    MatrixD fast(20, 50), ref(20, 50);
    SqDistanceTiles(q, qn, x, xn).tile(0, 50, fast);
    reference_sq_distances(q, x, ref);
    // d² ≈ 60 from terms |x|² ≈ 270: float32 GEMM error ~ 270·6e-8·√30 ≈ 1e-4 absolute.
    EXPECT_TRUE(test::all_close(fast.values(), ref.values(), 5e-4, 0));
}

TEST(MetricsNeighbors, SameBytesForAnyThreadCount) {
    const Matrix x = random_matrix(1500, 24, 21, false);
    const Neighbors a = search_self(x, 5, 1), b = search_self(x, 5, 2), c = search_self(x, 5, 3);
    EXPECT_EQ(a.index, b.index);
    EXPECT_EQ(a.index, c.index);
    EXPECT_EQ(0, std::memcmp(a.distance.data(), b.distance.data(), a.distance.size() * 4));
    EXPECT_EQ(0, std::memcmp(a.distance.data(), c.distance.data(), a.distance.size() * 4));
}

TEST(MetricsNeighbors, ValidatesInputs) {
    const Matrix x = random_matrix(5, 3, 1, false);
    const ExactNeighbors index(x);
    EXPECT_THROW(self_neighbors(index, x, 5, 1), Error);  // k = N with self excluded
    EXPECT_NO_THROW(index.search(x, 5, {}, 1));
    EXPECT_THROW(index.search(x, 0, {}, 1), Error);
    const Matrix wrong = random_matrix(2, 4, 1, false);
    EXPECT_THROW(index.search(wrong, 1, {}, 1), Error);
}

}  // namespace
}  // namespace promptlens
