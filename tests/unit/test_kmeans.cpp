// Tests for src/cluster/kmeans.*: golden runs of scikit-learn 1.2.1 from fixed centres
// (tools/golden_kmeans.py), the fast Lloyd pass against the plain reference step, Lloyd against
// Elkan, and invariants of the full stochastic fit (quality vs scikit-learn's best, monotone
// objective, determinism across threads and seeds), input checks and degenerate data.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <set>

#include "cluster/kmeans.hpp"
#include "cluster/kmeans_detail.hpp"
#include "core/error.hpp"
#include "core/npy.hpp"
#include "test_helpers.hpp"

namespace promptlens {
namespace {

Matrix digits() {
    return read_npy_matrix(test::data_path("digits/X.npy"));
}

std::filesystem::path golden(const std::string& name) {
    return test::data_path("sklearn/kmeans/" + name);
}

nlohmann::json cases() {
    std::ifstream in(golden("cases.json"));
    return nlohmann::json::parse(in);
}

// Two Gaussian blobs in d dimensions (means 0 and `sep` on every column), n rows each.
Matrix blobs(size_t n, size_t d, float sep, uint64_t seed) {
    Matrix x(2 * n, d);
    Rng rng(seed);
    for (size_t i = 0; i < 2 * n; ++i)
        for (size_t f = 0; f < d; ++f)
            x(i, f) = static_cast<float>(rng.normal()) + (i % 2 == 0 ? 0.0f : sep);
    return x;
}

bool same_bytes(const Matrix& a, const Matrix& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct Golden {
    std::string name;
    KMeansAlgorithm algorithm;
    const char* algo;
};

class KMeansGolden : public ::testing::TestWithParam<Golden> {};

// From the same initial centres scikit-learn is deterministic, so everything is compared:
// labels and n_iter exactly; centres to atol 2e-4 + rtol 1e-5 (scikit-learn accumulates the
// centre sums in float32 over ~200-1,800 rows, we in double; values are 0..16); inertia to rtol
// 1e-5 (scikit-learn sums it in float32).
TEST_P(KMeansGolden, MatchesScikitLearnFromFixedCentres) {
    const auto& g = GetParam();
    Matrix x = digits();
    Matrix init = read_npy_matrix(golden(g.name + "_init.npy"));
    KMeansOptions o;
    o.algorithm = g.algorithm;
    o.threads = 2;
    KMeansResult r = kmeans_fit_from(x, init, o);
    auto ref = cases()["fixed"][g.name + "_" + g.algo];
    Matrix centers = read_npy_matrix(golden(g.name + "_" + g.algo + "_centers.npy"));
    std::vector<int64_t> labels = read_npy_ints(golden(g.name + "_" + g.algo + "_labels.npy"));
    ASSERT_EQ(r.labels.size(), labels.size());
    size_t mismatched = 0;
    for (size_t i = 0; i < labels.size(); ++i) mismatched += r.labels[i] != labels[i];
    EXPECT_EQ(mismatched, 0u);
    EXPECT_EQ(r.iterations, ref["n_iter"].get<size_t>());
    EXPECT_TRUE(r.converged);
    EXPECT_TRUE(test::all_close(test::flat(r.centers), test::flat(centers), 2e-4, 1e-5));
    const double inertia = ref["inertia"].get<double>();
    EXPECT_NEAR(r.inertia, inertia, 1e-5 * inertia);
    // predict on the fitted centres gives the fitted labels (the final E-step).
    EXPECT_EQ(kmeans_predict(r.centers, x, 2), r.labels);
}

INSTANTIATE_TEST_SUITE_P(KMeansDigits, KMeansGolden,
                         ::testing::Values(Golden{"first2", KMeansAlgorithm::lloyd, "lloyd"},
                                           Golden{"first2", KMeansAlgorithm::elkan, "elkan"},
                                           Golden{"first10", KMeansAlgorithm::lloyd, "lloyd"},
                                           Golden{"first10", KMeansAlgorithm::elkan, "elkan"},
                                           Golden{"pp10", KMeansAlgorithm::lloyd, "lloyd"},
                                           Golden{"pp10", KMeansAlgorithm::elkan, "elkan"},
                                           Golden{"dup3", KMeansAlgorithm::lloyd, "lloyd"},
                                           Golden{"dup3", KMeansAlgorithm::elkan, "elkan"}),
                         [](const auto& p) { return p.param.name + "_" + p.param.algo; });

// transform against scikit-learn's `transform` (float64 euclidean_distances) on its own
// centres: atol 1e-4 + rtol 1e-6, float32 output of distances ~10-60.
TEST(KMeansGoldenTransform, MatchesScikitLearn) {
    Matrix x = digits();
    for (std::string name : {"first2", "first10"}) {
        Matrix centers = read_npy_matrix(golden(name + "_lloyd_centers.npy"));
        Matrix ref = read_npy_matrix(golden(name + "_transform.npy"));
        Matrix t = kmeans_transform(centers, x, 2);
        ASSERT_EQ(t.rows(), ref.rows());
        ASSERT_EQ(t.cols(), ref.cols());
        EXPECT_TRUE(test::all_close(test::flat(t), test::flat(ref), 1e-4, 1e-6)) << name;
        std::vector<int64_t> labels = read_npy_ints(golden(name + "_lloyd_labels.npy"));
        std::vector<int32_t> pred = kmeans_predict(centers, x, 1);
        for (size_t i = 0; i < labels.size(); ++i) ASSERT_EQ(pred[i], labels[i]) << "row " << i;
    }
}

// The fast pass (GEMM distances, chunked double sums) against the reference step (exact double
// distances, plain sums): same labels and counts; centres to atol 1e-5 (float32 sums of at most
// 128 rows per block, then double). Covers the one-hot GEMM sums (k ≤ 4), the tiled direct sums
// (k = 10, 20; 64 columns per tile) also with a partial last tile (100 columns, k = 6), and an
// empty-cluster relocation (two identical centres).
TEST(KMeansReference, FastStepMatchesReferenceStep) {
    Matrix x = digits();
    std::vector<Matrix> starts;
    starts.push_back(read_npy_matrix(golden("first10_init.npy")));
    starts.push_back(to_matrix(x.row_range(0, 20)));
    starts.push_back(read_npy_matrix(golden("dup3_init.npy")));
    // digits widened to 100 columns (the extra 36 are scaled copies), so the last tile is partial.
    Matrix wide(x.rows(), 100);
    for (size_t i = 0; i < x.rows(); ++i)
        for (size_t f = 0; f < 100; ++f) wide(i, f) = f < 64 ? x(i, f) : 0.5f * x(i, f - 64);
    starts.push_back(to_matrix(wide.row_range(100, 106)));
    for (const Matrix& c : starts) {
        const Matrix& xs = c.cols() == x.cols() ? x : wide;
        auto ref = kmeans_detail::lloyd_step_reference(xs, c);
        for (int threads : {1, 2}) {
            auto fast = kmeans_detail::lloyd_step_fast(xs, c, threads);
            EXPECT_EQ(fast.labels, ref.labels) << "k=" << c.rows();
            EXPECT_EQ(fast.counts, ref.counts) << "k=" << c.rows();
            EXPECT_TRUE(
                test::all_close(test::flat(fast.centers), test::flat(ref.centers), 1e-5, 1e-6));
            EXPECT_NEAR(fast.shift_sq, ref.shift_sq, 1e-6 * ref.shift_sq + 1e-9);
        }
    }
    // dup3 starts with an empty cluster; after the step it holds exactly the farthest row.
    auto step = kmeans_detail::lloyd_step_reference(x, starts[2]);
    EXPECT_EQ(step.counts[1], 1.0);
}

// Lloyd and Elkan from the same start: same labels and iterations, centres to atol 1e-5.
TEST(KMeansAlgorithms, LloydAndElkanAgree) {
    std::vector<std::pair<Matrix, Matrix>> problems;
    Matrix d = digits();
    problems.emplace_back(d, to_matrix(d.row_range(0, 8)));
    Matrix b = blobs(300, 40, 0.4f, 7);
    problems.emplace_back(b, to_matrix(b.row_range(0, 5)));
    for (auto& [x, init] : problems) {
        KMeansOptions o;
        o.algorithm = KMeansAlgorithm::lloyd;
        KMeansResult l = kmeans_fit_from(x, init, o);
        o.algorithm = KMeansAlgorithm::elkan;
        KMeansResult e = kmeans_fit_from(x, init, o);
        EXPECT_EQ(l.labels, e.labels);
        EXPECT_EQ(l.iterations, e.iterations);
        EXPECT_EQ(l.converged, e.converged);
        EXPECT_TRUE(test::all_close(test::flat(l.centers), test::flat(e.centers), 1e-5, 1e-6));
        EXPECT_NEAR(l.inertia, e.inertia, 1e-9 * l.inertia);
    }
}

// Full fit with our own k-means++ RNG: inertia at most 0.5% above the best of scikit-learn's
// five default fits (n_init = 10, random_state 0..4) on digits; k-means local minima differ by
// ~0.01-0.1% there.
TEST(KMeansFit, QualityNearScikitLearn) {
    Matrix x = digits();
    auto full = cases()["full"];
    for (size_t k : {2, 10}) {
        double best = 1e300;
        for (double v : full[std::to_string(k)]["inertia_by_random_state_0_to_4"])
            best = std::min(best, v);
        for (auto algorithm : {KMeansAlgorithm::lloyd, KMeansAlgorithm::elkan}) {
            KMeansOptions o;
            o.clusters = k;
            o.algorithm = algorithm;
            o.threads = 2;
            KMeansResult r = kmeans_fit(x, o);
            EXPECT_LE(r.inertia, best * 1.005) << "k=" << k;
            EXPECT_TRUE(r.converged);
            EXPECT_LT(r.best_init, o.n_init);
            EXPECT_EQ(r.centers.rows(), k);
            EXPECT_EQ(std::set<int32_t>(r.labels.begin(), r.labels.end()).size(), k);
            EXPECT_NEAR(r.inertia, kmeans_detail::inertia_exact(x, r.centers, r.labels, 1),
                        1e-3 * r.inertia);  // centres moved back by the column means (float32)
        }
    }
}

// The objective after every E-step never increases (up to the GEMM formula's rounding, rtol
// 1e-6), for every restart.
TEST(KMeansFit, ObjectiveNeverIncreases) {
    Matrix x = digits();
    auto norms = kmeans_detail::row_norms_d(x, 1);
    std::vector<Rng> rngs;
    for (uint64_t r = 0; r < 4; ++r) rngs.emplace_back(3, r);
    auto init = kmeans_detail::kmeans_plusplus_batch(x, norms, 10, rngs, 2);
    auto runs = kmeans_detail::lloyd_batch(x, norms, init, 300, 0.0, 2);
    for (const auto& run : runs) {
        ASSERT_GE(run.inertia_history.size(), 2u);
        for (size_t t = 1; t < run.inertia_history.size(); ++t)
            EXPECT_LE(run.inertia_history[t], run.inertia_history[t - 1] * (1 + 1e-6)) << t;
        EXPECT_LE(run.inertia, run.inertia_history.back() * (1 + 1e-6));
    }
    // Restarts batched together give what each gives alone.
    auto alone = kmeans_detail::lloyd_batch(x, norms, {init[2]}, 300, 0.0, 1);
    EXPECT_EQ(alone[0].labels, runs[2].labels);
    EXPECT_TRUE(same_bytes(alone[0].centers, runs[2].centers));
    EXPECT_EQ(alone[0].iterations, runs[2].iterations);
}

TEST(KMeansFit, BitwiseIdenticalAcrossThreadCounts) {
    Matrix x = blobs(1500, 24, 0.3f, 11);  // 3,000 rows: several chunks
    for (auto algorithm : {KMeansAlgorithm::lloyd, KMeansAlgorithm::elkan}) {
        KMeansOptions o;
        o.clusters = 6;
        o.n_init = 3;
        o.algorithm = algorithm;
        o.seed = 5;
        o.threads = 1;
        KMeansResult one = kmeans_fit(x, o);
        for (int threads : {2, 3}) {
            o.threads = threads;
            KMeansResult r = kmeans_fit(x, o);
            EXPECT_TRUE(same_bytes(r.centers, one.centers)) << threads;
            EXPECT_EQ(r.labels, one.labels);
            EXPECT_EQ(std::memcmp(&r.inertia, &one.inertia, sizeof(double)), 0);
            EXPECT_EQ(r.iterations, one.iterations);
            EXPECT_EQ(r.best_init, one.best_init);
        }
        Rng a(9), b(9);
        EXPECT_TRUE(same_bytes(kmeans_plusplus(x, 6, a, 1), kmeans_plusplus(x, 6, b, 3)));
        EXPECT_TRUE(
            same_bytes(kmeans_transform(one.centers, x, 1), kmeans_transform(one.centers, x, 3)));
        EXPECT_EQ(kmeans_predict(one.centers, x, 1), kmeans_predict(one.centers, x, 3));
    }
}

TEST(KMeansFit, SameSeedSameResult) {
    Matrix x = digits();
    KMeansOptions o;
    o.clusters = 10;
    o.n_init = 2;
    o.seed = 42;
    KMeansResult a = kmeans_fit(x, o), b = kmeans_fit(x, o);
    EXPECT_TRUE(same_bytes(a.centers, b.centers));
    EXPECT_EQ(a.labels, b.labels);
    o.seed = 43;
    KMeansResult c = kmeans_fit(x, o);
    EXPECT_FALSE(same_bytes(a.centers, c.centers));
}

TEST(KMeansPlusPlus, PicksDistinctRowsOfX) {
    Matrix x = digits();
    Rng rng(1);
    Matrix c = kmeans_plusplus(x, 10, rng);
    std::set<std::vector<float>> rows;
    for (size_t j = 0; j < 10; ++j) {
        std::vector<float> row(c.row(j).begin(), c.row(j).end());
        bool found = false;
        for (size_t i = 0; i < x.rows() && !found; ++i)
            found = std::equal(row.begin(), row.end(), x.row(i).begin());
        EXPECT_TRUE(found) << j;
        rows.insert(row);
    }
    EXPECT_EQ(rows.size(), 10u);
}

TEST(KMeansFit, DuplicateRowsGiveFiniteResults) {
    Matrix few(600, 5);
    for (size_t i = 0; i < few.rows(); ++i)
        for (size_t f = 0; f < 5; ++f) few(i, f) = static_cast<float>((i % 3) * (f + 1));
    Matrix same(50, 4, 2.5f);
    for (auto algorithm : {KMeansAlgorithm::lloyd, KMeansAlgorithm::elkan}) {
        KMeansOptions o;
        o.clusters = 5;
        o.algorithm = algorithm;
        KMeansResult r = kmeans_fit(few, o);
        for (float v : r.centers.values()) ASSERT_TRUE(std::isfinite(v));
        EXPECT_EQ(r.inertia, 0.0);
        o.clusters = 3;
        KMeansResult s = kmeans_fit(same, o);
        for (float v : s.centers.values()) ASSERT_TRUE(std::isfinite(v));
        EXPECT_EQ(s.inertia, 0.0);
        EXPECT_TRUE(s.converged);
    }
}

TEST(KMeansFit, MaxIterStopsEarly) {
    Matrix x = digits();
    KMeansOptions o;
    o.max_iter = 2;
    KMeansResult r = kmeans_fit_from(x, read_npy_matrix(golden("first10_init.npy")), o);
    EXPECT_EQ(r.iterations, 2u);
    EXPECT_FALSE(r.converged);
    EXPECT_EQ(kmeans_predict(r.centers, x), r.labels);  // final E-step ran
}

TEST(KMeansFit, ChecksInputs) {
    Matrix x(3, 2, 1.0f);
    KMeansOptions o;
    o.clusters = 5;
    try {
        kmeans_fit(x, o);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(),
                     "KMeans: 3 rows but 5 clusters requested; need at least as many rows as "
                     "clusters");
    }
    o.clusters = 0;
    EXPECT_THROW(kmeans_fit(x, o), Error);
    o.clusters = 2;
    o.n_init = 0;
    EXPECT_THROW(kmeans_fit(x, o), Error);
    o.n_init = 1;
    o.max_iter = 0;
    EXPECT_THROW(kmeans_fit(x, o), Error);
    o.max_iter = 10;
    EXPECT_THROW(kmeans_fit_from(x, Matrix(2, 3), o), Error);
    Matrix bad(4, 2, 1.0f);
    bad(2, 1) = NAN;
    EXPECT_THROW(kmeans_fit(bad, o), Error);
    Rng rng(0);
    EXPECT_THROW(kmeans_plusplus(x, 4, rng), Error);
}

}  // namespace
}  // namespace promptlens
