// t-SNE attraction (src/embed/tsne_attraction.hpp): the eight-lane fast path against the plain
// entry-by-entry reference (written tolerance), and its AVX-512 path against its portable path
// (the same bits: both add each lane in entry order and the lanes in one fixed tree).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "embed/tsne_attraction.hpp"

namespace promptlens {
namespace {

// A random sparse P with 0 to 40 entries a row (some rows empty, some not a multiple of 8) and
// an embedding y of spread ~10, with a few duplicate points (w = 1 exactly).
struct Case {
    CsrMatrix p;
    std::vector<double> y;
};

Case make_case(size_t n, size_t dims, uint64_t seed) {
    Rng rng(seed);
    Case c;
    c.p.n = n;
    c.p.indptr.assign(n + 1, 0);
    for (size_t i = 0; i < n; ++i) {
        const size_t count = rng.next() % 41;
        for (size_t t = 0; t < count; ++t) {
            c.p.indices.push_back(static_cast<int32_t>(rng.next() % n));
            c.p.values.push_back(rng.uniform() / static_cast<double>(n));
        }
        c.p.indptr[i + 1] = static_cast<int64_t>(c.p.indices.size());
    }
    c.y.resize(n * dims);
    for (double& v : c.y) v = 10.0 * rng.normal();
    for (size_t c2 = 0; c2 < dims; ++c2) c.y[dims + c2] = c.y[c2];  // rows 0 and 1 coincide
    return c;
}

TEST(TsneAttraction, MatchesReference) {
    for (size_t dims : {1, 2, 3}) {
        const size_t n = 700;
        const Case c = make_case(n, dims, 11 + dims);
        std::vector<double> fast(n * dims), ref(n * dims);
        tsne_attraction(c.p, 12.0, c.y, dims, 0, n, fast.data());
        reference::tsne_attraction(c.p, 12.0, c.y, dims, 0, n, ref.data());
        double scale = 0;
        for (double v : ref) scale = std::max(scale, std::fabs(v));
        ASSERT_GT(scale, 0);
        for (size_t t = 0; t < n * dims; ++t) {
            // Only the order of the sums differs: |a − b| <= 1e-14 of the largest force.
            EXPECT_NEAR(fast[t], ref[t], 1e-14 * scale) << "dims " << dims << " value " << t;
        }
    }
}

TEST(TsneAttraction, FastPathHasThePortableBits) {
    for (size_t dims : {1, 2}) {
        const size_t n = 1000;
        const Case c = make_case(n, dims, 5);
        std::vector<double> fast(n * dims), portable(n * dims);
        // An inner row range: the output starts at row `begin`.
        tsne_attraction(c.p, 1.0, c.y, dims, 100, n, fast.data());
        tsne_attraction_portable(c.p, 1.0, c.y, dims, 100, n, portable.data());
        for (size_t t = 0; t < (n - 100) * dims; ++t) {
            ASSERT_EQ(fast[t], portable[t]) << "dims " << dims << " value " << t;
        }
    }
}

TEST(TsneAttraction, EmptyRowsAndBadInput) {
    Case c = make_case(50, 2, 3);
    c.p.indptr.assign(51, 0);
    c.p.indices.clear();
    c.p.values.clear();
    std::vector<double> out(100, 7.0);
    tsne_attraction(c.p, 1.0, c.y, 2, 0, 50, out.data());
    for (double v : out) EXPECT_EQ(v, 0.0);
    EXPECT_THROW(tsne_attraction(c.p, 1.0, c.y, 2, 10, 60, out.data()), Error);
    EXPECT_THROW(tsne_attraction(c.p, 1.0, c.y, 9, 0, 1, out.data()), Error);
    EXPECT_THROW(
        tsne_attraction(c.p, 1.0, std::span<const double>(c.y).first(99), 2, 0, 1, out.data()),
        Error);
}

}  // namespace
}  // namespace promptlens
