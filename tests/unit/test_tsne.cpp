// t-SNE (src/embed/tsne_affinity.hpp, src/embed/tsne.hpp): P against scikit-learn 1.2.1's
// _joint_probabilities_nn (golden data from tools/golden_tsne.py), the gradient against a finite
// difference of the KL divergence, the optimiser's invariants (KL decreases, finite output, same
// bytes for every thread count) and the quality of a full run against sklearn's TSNE.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <utility>

#include "core/labels.hpp"
#include "core/npy.hpp"
#include "core/rng.hpp"
#include "embed/tsne.hpp"
#include "embed/tsne_affinity.hpp"
#include "metrics/knn_accuracy.hpp"
#include "metrics/trustworthiness.hpp"
#include "test_helpers.hpp"

namespace promptlens {
namespace {

using nlohmann::json;

json tsne_manifest() {
    std::ifstream in(test::data_path("sklearn/tsne/manifest.json"));
    return json::parse(in);
}

Matrix digits_rows(size_t rows) {
    Matrix x = read_npy_matrix(test::data_path("digits/X.npy"));
    return to_matrix(x.row_range(0, rows));
}

std::vector<int32_t> digits_labels(size_t rows) {
    Labels l = read_labels(test::data_path("digits/labels.txt"));
    return {l.codes.begin(), l.codes.begin() + static_cast<std::ptrdiff_t>(rows)};
}

// sklearn's neighbour lists, 500 × 91 (int32 on disk; read as float32, exact below 2²⁴).
std::vector<int32_t> golden_neighbors() {
    Matrix m = read_npy_matrix(test::data_path("sklearn/tsne/digits500_neighbors.npy"));
    std::vector<int32_t> ids(m.size());
    for (size_t t = 0; t < m.size(); ++t) ids[t] = static_cast<int32_t>(m.values()[t]);
    return ids;
}

// Dense copy of a CSR matrix (small n only).
MatrixD dense(const CsrMatrix& p) {
    MatrixD d(p.n, p.n);
    for (size_t i = 0; i < p.n; ++i) {
        for (auto e = static_cast<size_t>(p.indptr[i]); e < static_cast<size_t>(p.indptr[i + 1]);
             ++e) {
            d(i, static_cast<size_t>(p.indices[e])) = p.values[e];
        }
    }
    return d;
}

void expect_valid_p(const CsrMatrix& p) {
    double total = 0;
    MatrixD d = dense(p);
    for (size_t i = 0; i < p.n; ++i) {
        EXPECT_EQ(d(i, i), 0.0);
        for (size_t j = 0; j < p.n; ++j) {
            ASSERT_TRUE(std::isfinite(d(i, j)));
            ASSERT_GE(d(i, j), 0.0);
            ASSERT_EQ(d(i, j), d(j, i)) << i << "," << j;
            total += d(i, j);
        }
    }
    EXPECT_NEAR(total, 1.0, 1e-12);
}

// A random symmetric P (from random points) and a random embedding, for gradient checks.
struct SmallProblem {
    CsrMatrix p;
    std::vector<double> y;
};
SmallProblem small_problem(size_t n, size_t dims, uint64_t seed) {
    Matrix x(n, 5);
    Rng rng(seed);
    for (float& v : x.values()) v = static_cast<float>(rng.normal());
    SmallProblem s;
    s.p = tsne_affinities(x, 3.0, TsneMetric::euclidean, 1).p;
    s.y.resize(n * dims);
    for (double& v : s.y) v = rng.normal();
    return s;
}

TsneOptions exact_options(int threads = 1) {
    TsneOptions o;
    o.repulsion_auto = false;
    o.repulsion.method = TsneRepulsionMethod::exact;
    o.threads = threads;
    return o;
}

// ---------------------------------------------------------------------------------------------
// Affinities

TEST(TsneAffinity, MatchesSklearnGivenItsNeighbours) {
    // Our search and symmetrisation on sklearn's own neighbour lists (the digits are integers, so
    // equal distances at the 91st neighbour make the lists themselves tie-order dependent).
    Matrix x = digits_rows(500);
    const size_t k = tsne_neighbor_count(500, 30.0);
    ASSERT_EQ(k, 91u);
    auto nbr = golden_neighbors();
    ASSERT_EQ(nbr.size(), 500 * k);
    Matrix sq = tsne_neighbor_sq_distances(x, nbr, k, 2);
    TsneAffinities a = joint_probabilities_nn(nbr, sq, 30.0, 2);
    EXPECT_EQ(a.neighbors, k);
    EXPECT_EQ(a.rows_not_converged, 0u);

    auto indptr = read_npy_ints(test::data_path("sklearn/tsne/digits500_p_indptr.npy"));
    auto indices = read_npy_ints(test::data_path("sklearn/tsne/digits500_p_indices.npy"));
    Matrix data = read_npy_matrix(test::data_path("sklearn/tsne/digits500_p_data.npy"));
    ASSERT_EQ(a.p.indptr.size(), indptr.size());
    ASSERT_EQ(a.p.nnz(), indices.size());
    for (size_t t = 0; t < indptr.size(); ++t) ASSERT_EQ(a.p.indptr[t], indptr[t]) << t;
    for (size_t t = 0; t < indices.size(); ++t) ASSERT_EQ(a.p.indices[t], indices[t]) << t;
    // Tolerance: the golden values are stored as float32 (relative rounding ≤ 6e-8); both sides
    // search on the same float32 squared distances (integer data: exact in both) with the same
    // steps, so what remains is sum order (sklearn's P.sum() vs ours) at ~1e-15. rtol 2e-7
    // covers the float32 storage with margin and would catch a one-step-different β (the last
    // bisection steps move p by ≥ 1e-6 relative).
    std::vector<double> ref(data.values().begin(), data.values().end());
    EXPECT_TRUE(test::all_close(a.p.values, ref, 0.0, 2e-7));
    expect_valid_p(a.p);
}

TEST(TsneAffinity, OwnNeighboursHaveSklearnsDistances) {
    // Our kNN may order equal distances differently, so compare each row's sorted squared
    // distances (the conditional P of a row depends only on that multiset): exactly equal.
    Matrix x = digits_rows(500);
    const size_t k = tsne_neighbor_count(500, 30.0);
    auto nbr = golden_neighbors();
    Matrix ref_sq = tsne_neighbor_sq_distances(x, nbr, k, 1);
    Neighbors ours = tsne_knn(x, k, 2);
    Matrix sq = tsne_neighbor_sq_distances(x, ours.index, k, 1);
    size_t rows_differing_ids = 0;
    for (size_t i = 0; i < 500; ++i) {
        std::vector<float> a(sq.row(i).begin(), sq.row(i).end());
        std::vector<float> b(ref_sq.row(i).begin(), ref_sq.row(i).end());
        std::sort(a.begin(), a.end());
        std::sort(b.begin(), b.end());
        ASSERT_EQ(a, b) << "row " << i;
        std::vector<int32_t> ia(ours.of(i).begin(), ours.of(i).end());
        std::vector<int32_t> ib(nbr.begin() + static_cast<std::ptrdiff_t>(i * k),
                                nbr.begin() + static_cast<std::ptrdiff_t>((i + 1) * k));
        std::sort(ia.begin(), ia.end());
        std::sort(ib.begin(), ib.end());
        rows_differing_ids += ia != ib;
    }
    EXPECT_LE(rows_differing_ids, 46u);  // the rows with a tie at the boundary (golden script)
    TsneAffinities a = tsne_affinities(x, 30.0, TsneMetric::euclidean, 2);
    expect_valid_p(a.p);
}

TEST(TsneAffinity, SameBytesForEveryThreadCount) {
    Matrix x = digits_rows(1797);
    TsneAffinities a1 = tsne_affinities(x, 30.0, TsneMetric::euclidean, 1);
    for (int threads : {2, 3}) {
        TsneAffinities a = tsne_affinities(x, 30.0, TsneMetric::euclidean, threads);
        EXPECT_EQ(a.p.indptr, a1.p.indptr);
        EXPECT_EQ(a.p.indices, a1.p.indices);
        EXPECT_EQ(a.p.values, a1.p.values) << threads << " threads";
        EXPECT_EQ(a.beta, a1.beta);
    }
}

TEST(TsneAffinity, DuplicateRowsGiveFiniteP) {
    // 200 identical rows: each one's 91 neighbours are all at distance 0, every β gives entropy
    // log 91 > log 30, the search doubles β 100 times (sklearn does the same) and P is uniform.
    Matrix x(220, 4, 1.5f);
    Rng rng(5);
    for (size_t i = 200; i < 220; ++i) {
        for (float& v : x.row(i)) v = static_cast<float>(rng.normal());
    }
    TsneAffinities a = tsne_affinities(x, 30.0, TsneMetric::euclidean, 2);
    EXPECT_GE(a.rows_not_converged, 200u);
    expect_valid_p(a.p);
    for (double b : a.beta) EXPECT_TRUE(std::isfinite(b));
}

TEST(TsneAffinity, CosineIgnoresRowScale) {
    Matrix x = digits_rows(300);
    Matrix scaled = x;
    for (size_t i = 0; i < scaled.rows(); ++i) {
        for (float& v : scaled.row(i)) v *= static_cast<float>(1u << (i % 5));
    }
    TsneAffinities a = tsne_affinities(x, 20.0, TsneMetric::cosine, 1);
    TsneAffinities b = tsne_affinities(scaled, 20.0, TsneMetric::cosine, 1);
    expect_valid_p(a.p);
    // Scaling by powers of two leaves the normalised rows bit-identical: P is the same exactly.
    EXPECT_EQ(a.p.indices, b.p.indices);
    EXPECT_EQ(a.p.values, b.p.values);
    Matrix zero_row = x;
    for (float& v : zero_row.row(7)) v = 0;
    EXPECT_NE(test::error_of([&] {
                  tsne_affinities(zero_row, 20.0, TsneMetric::cosine, 1);
              }).find("row 7 is all zeros"),
              std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Gradient and optimiser

TEST(TsneGradient, MatchesFiniteDifferenceOfKl) {
    for (size_t dims : {1u, 2u}) {
        SmallProblem s = small_problem(14, dims, 11 + dims);
        TsneRepulsionOptions rep;
        rep.method = TsneRepulsionMethod::exact;
        std::vector<double> grad(s.y.size()), scratch(s.y.size());
        tsne_gradient(s.p, 1.0, s.y, dims, grad, rep, 1);
        // Central differences, h = 1e-5: truncation error ~h²·|∂³C| ≈ 1e-10, rounding
        // ~1e-16·C/h ≈ 1e-11 — far below the 1e-6 absolute / 1e-5 relative tolerance.
        const double h = 1e-5;
        std::vector<double> fd(s.y.size());
        for (size_t t = 0; t < s.y.size(); ++t) {
            std::vector<double> yp = s.y, ym = s.y;
            yp[t] += h;
            ym[t] -= h;
            const double cp = tsne_gradient(s.p, 1.0, yp, dims, scratch, rep, 1);
            const double cm = tsne_gradient(s.p, 1.0, ym, dims, scratch, rep, 1);
            fd[t] = (cp - cm) / (2 * h);
        }
        EXPECT_TRUE(test::all_close(grad, fd, 1e-6, 1e-5)) << dims << "-D";
    }
}

TEST(TsneGradient, KlIsNonNegativeAndZeroOnlyWhenQEqualsP) {
    SmallProblem s = small_problem(10, 2, 3);
    TsneRepulsionOptions rep;
    rep.method = TsneRepulsionMethod::exact;
    std::vector<double> grad(s.y.size());
    EXPECT_GT(tsne_gradient(s.p, 1.0, s.y, 2, grad, rep, 1), 0.0);
    EXPECT_TRUE(std::isnan(tsne_gradient(s.p, 1.0, s.y, 2, grad, rep, 1, false)));
}

TEST(TsneOptimize, KlDecreasesAndOutputIsFinite) {
    Matrix x = digits_rows(300);
    TsneOptions o = exact_options(2);
    o.max_iter = 600;
    TsneResult r = tsne_fit(x, o);
    ASSERT_EQ(r.embedding.rows(), 300u);
    ASSERT_EQ(r.embedding.cols(), 2u);
    for (float v : r.embedding.values()) ASSERT_TRUE(std::isfinite(v));
    EXPECT_EQ(r.iterations, 600u);
    EXPECT_EQ(r.repulsion, TsneRepulsionMethod::exact);
    EXPECT_DOUBLE_EQ(r.learning_rate, 50.0);  // max(300 / 12 / 4, 50)
    // Phase 2 (no exaggeration) checks at 300, 350, ..., 600: KL falls from first to last by more
    // than 5% (measured 0.350 → 0.321; sklearn's Barnes-Hut run on these rows: 0.357 → 0.320),
    // and never rises by more than 0.1% between checks (momentum may cause small bumps; measured:
    // none).
    std::vector<double> kl;
    for (const auto& h : r.kl_history) {
        if (h.iteration > 250) kl.push_back(h.kl);
    }
    ASSERT_GE(kl.size(), 6u);
    EXPECT_LT(kl.back(), 0.95 * kl.front());
    for (size_t t = 1; t < kl.size(); ++t) EXPECT_LE(kl[t], kl[t - 1] * 1.001) << t;
    EXPECT_DOUBLE_EQ(r.kl_divergence, r.kl_history.back().kl);
}

TEST(TsneOptimize, SameBytesForEveryThreadCount) {
    // 700 rows: three 256-row chunks of the affinity stages and of the attractive pass.
    Matrix x = digits_rows(700);
    TsneOptions o = exact_options(1);
    o.max_iter = 60;  // one KL check (50) and the last iteration
    TsneResult r1 = tsne_fit(x, o);
    for (int threads : {2, 3}) {
        o.threads = threads;
        TsneResult r = tsne_fit(x, o);
        ASSERT_EQ(0, std::memcmp(r.embedding.data(), r1.embedding.data(),
                                 r1.embedding.size() * sizeof(float)))
            << threads << " threads";
        EXPECT_EQ(r.kl_divergence, r1.kl_divergence);
    }
}

TEST(TsneOptimize, RandomInitIsSeededAndFinite) {
    Matrix x = digits_rows(200);
    TsneOptions o = exact_options(1);
    o.init = TsneInit::random;
    o.max_iter = 100;
    o.seed = 4;
    TsneResult a = tsne_fit(x, o), b = tsne_fit(x, o);
    EXPECT_EQ(a.embedding.values()[0], b.embedding.values()[0]);
    EXPECT_TRUE(std::equal(a.embedding.values().begin(), a.embedding.values().end(),
                           b.embedding.values().begin()));
    o.seed = 5;
    TsneResult c = tsne_fit(x, o);
    EXPECT_NE(a.embedding.values()[0], c.embedding.values()[0]);
    for (float v : c.embedding.values()) ASSERT_TRUE(std::isfinite(v));
}

TEST(TsneOptimize, ManyDuplicateRowsGiveFiniteOutput) {
    Matrix x(215, 6, 2.0f);
    Rng rng(9);
    for (size_t i = 200; i < 215; ++i) {
        for (float& v : x.row(i)) v = static_cast<float>(3 * rng.normal());
    }
    TsneOptions o = exact_options(2);
    TsneResult r = tsne_fit(x, o);
    EXPECT_GE(r.rows_not_converged, 200u);
    for (float v : r.embedding.values()) ASSERT_TRUE(std::isfinite(v));
    EXPECT_TRUE(std::isfinite(r.kl_divergence));
}

TEST(TsneOptimize, BadInputIsRefusedWithNumbers) {
    Matrix x = digits_rows(40);
    TsneOptions o = exact_options();
    o.perplexity = 39;
    EXPECT_NE(test::error_of([&] { tsne_fit(x, o); }).find("perplexity must be less than"),
              std::string::npos);
    o.perplexity = 30;
    Matrix two = digits_rows(2);
    EXPECT_NE(test::error_of([&] { tsne_fit(two, o); }).find("2 rows; need at least 3"),
              std::string::npos);
    Matrix nan = x;
    nan(3, 5) = std::numeric_limits<float>::quiet_NaN();
    EXPECT_NE(test::error_of([&] { tsne_fit(nan, o); }).find("row 3, column 5"), std::string::npos);
    o.components = 3;
    EXPECT_NE(test::error_of([&] { tsne_fit(x, o); }).find("3 components"), std::string::npos);
    o.components = 2;
    Matrix same(50, 3, 1.0f);
    o.perplexity = 10;
    EXPECT_NE(test::error_of([&] { tsne_fit(same, o); }).find("all 50 rows are identical"),
              std::string::npos);
}

TEST(TsneOptimize, AutoRepulsionChoice) {
    EXPECT_EQ(tsne_auto_repulsion(999, 2), TsneRepulsionMethod::exact);
    EXPECT_EQ(tsne_auto_repulsion(1000, 2), TsneRepulsionMethod::barnes_hut);
    EXPECT_EQ(tsne_auto_repulsion(5000, 1), TsneRepulsionMethod::fft);
    EXPECT_EQ(tsne_auto_repulsion(10000, 2), TsneRepulsionMethod::fft);
}

// ---------------------------------------------------------------------------------------------
// Quality against sklearn

TEST(TsneQuality, Digits600MatchesSklearn) {
    // sklearn TSNE(random_state=0) on the first 600 digits (Barnes-Hut, θ = 0.5, float32) vs
    // ours with the defaults (600 < 1,000 rows: exact repulsion, PCA init). The two runs are
    // different optimisations of the same objective, so only the quality is compared: within
    // 0.01 (the bound; 10-NN accuracy moves in steps of 1/600 ≈ 0.0017).
    const size_t n = 600;
    Matrix x = digits_rows(n);
    auto labels = digits_labels(n);
    TsneOptions o;
    o.threads = 2;
    TsneResult r = tsne_fit(x, o);
    EXPECT_EQ(r.repulsion, TsneRepulsionMethod::exact);
    KnnAccuracy acc = knn_cv_accuracy(r.embedding, labels, 10, 5, 2);
    const double trust = trustworthiness(x, r.embedding, 5, 0, 0, 2).value;
    json ref = tsne_manifest().at("digits600");
    RecordProperty("knn10_accuracy", std::to_string(acc.mean));
    RecordProperty("trustworthiness5", std::to_string(trust));
    RecordProperty("kl_divergence", std::to_string(r.kl_divergence));
    EXPECT_NEAR(acc.mean, ref.at("knn10_accuracy").get<double>(), 0.01);
    EXPECT_NEAR(trust, ref.at("trustworthiness5").get<double>(), 0.01);
    std::printf(
        "digits600: 10-NN acc %.4f (sklearn %.4f), trust %.4f (sklearn %.4f), KL %.4f "
        "(sklearn %.4f)\n",
        acc.mean, ref.at("knn10_accuracy").get<double>(), trust,
        ref.at("trustworthiness5").get<double>(), r.kl_divergence,
        ref.at("kl_divergence").get<double>());
}

TEST(TsneQuality, DigitsBarnesHutMatchesSklearn) {
    // All 1,797 digits with the defaults: auto picks Barnes-Hut (θ = 0.5), sklearn's own method
    // (ours in double, sklearn's in float32). Within 0.01 of sklearn TSNE(random_state=0)
    // (measured: 10-NN accuracy 0.9739 both, trustworthiness 0.9949 vs 0.9950); ~2.7 s of CPU.
    Matrix x = read_npy_matrix(test::data_path("digits/X.npy"));
    auto labels = digits_labels(x.rows());
    TsneOptions o;
    o.threads = 2;
    TsneResult r = tsne_fit(x, o);
    EXPECT_EQ(r.repulsion, TsneRepulsionMethod::barnes_hut);
    EXPECT_EQ(r.iterations, 1000u);
    const double acc = knn_cv_accuracy(r.embedding, labels, 10, 5, 2).mean;
    const double trust = trustworthiness(x, r.embedding, 5, 0, 0, 2).value;
    json ref = tsne_manifest().at("digits");
    EXPECT_NEAR(acc, ref.at("knn10_accuracy").get<double>(), 0.01);
    EXPECT_NEAR(trust, ref.at("trustworthiness5").get<double>(), 0.01);
    EXPECT_NEAR(r.kl_divergence, ref.at("kl_divergence").get<double>(), 0.05);
    std::printf(
        "digits: 10-NN acc %.4f (sklearn %.4f), trust %.4f (sklearn %.4f), KL %.4f "
        "(sklearn %.4f)\n",
        acc, ref.at("knn10_accuracy").get<double>(), trust,
        ref.at("trustworthiness5").get<double>(), r.kl_divergence,
        ref.at("kl_divergence").get<double>());
}

}  // namespace
}  // namespace promptlens
