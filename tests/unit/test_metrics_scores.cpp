// Silhouette, k-NN cross-validated accuracy and trustworthiness against scikit-learn 1.2.1
// (tools/golden_metrics.py on digits), against the plain references, and across thread counts.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "metrics/knn_accuracy.hpp"
#include "metrics/silhouette.hpp"
#include "metrics/trustworthiness.hpp"
#include "test_metrics_golden.hpp"

namespace promptlens {
namespace {

// ---- silhouette --------------------------------------------------------------------------

// sklearn computes float32 distances for float32 input and accumulates them in float32
// (clust_dists has the input dtype): its mean carries ~1e-7 relative error; our 64-D GEMM path
// (float32 dot products of centred rows) adds ~1e-6 relative per distance, averaging out. 1e-5
// absolute on a score in [-1, 1] covers both with margin.
constexpr double kSilhouetteAtol = 1e-5;

TEST(MetricsSilhouette, DigitsMatchesSklearn) {
    const auto& g = test::metrics_golden();
    EXPECT_NEAR(silhouette_score(g.x, g.clusters, 0, 0).value, g.scalar("silhouette_X_kmeans"),
                kSilhouetteAtol);
    EXPECT_NEAR(silhouette_score(g.x, g.labels, 0, 0).value, g.scalar("silhouette_X_true"),
                kSilhouetteAtol);
    const SampledScore s = silhouette_score(g.pca2, g.clusters, 0, 0);
    EXPECT_NEAR(s.value, g.scalar("silhouette_pca2_kmeans"), kSilhouetteAtol);
    EXPECT_FALSE(s.sampled);
    EXPECT_EQ(s.sample_size, 1797u);
}

TEST(MetricsSilhouette, SingletonClusterScoresZero) {
    const auto& g = test::metrics_golden();
    Matrix x(6, 2);
    const float pts[] = {0, 0, 0, 1, 1, 0, 5, 5, 5, 6, 9, 0};
    std::copy(std::begin(pts), std::end(pts), x.data());
    const auto labels = g.ints("silhouette_small_labels");
    // Exact small arithmetic in double vs sklearn's float32: 1e-6.
    EXPECT_NEAR(silhouette_score(x, labels, 0, 0).value, g.scalar("silhouette_small"), 1e-6);
}

TEST(MetricsSilhouette, FastPathMatchesReference) {
    const auto& g = test::metrics_golden();
    const ConstMatView sub = g.x.row_range(0, 400);
    const std::span<const int32_t> lab(g.clusters.data(), 400);
    // Same float32-GEMM-vs-double argument as above, 1e-6 on 400 rows.
    EXPECT_NEAR(silhouette_score(sub, lab, 0, 0).value, reference::silhouette_score(sub, lab),
                1e-6);
}

TEST(MetricsSilhouette, SampledIsSeededAndThreadIndependent) {
    const auto& g = test::metrics_golden();
    const SampledScore a = silhouette_score(g.x, g.clusters, 600, 42, 1);
    const SampledScore b = silhouette_score(g.x, g.clusters, 600, 42, 3);
    EXPECT_TRUE(a.sampled);
    EXPECT_EQ(a.sample_size, 600u);
    EXPECT_EQ(std::memcmp(&a.value, &b.value, sizeof(double)), 0);
    const SampledScore c = silhouette_score(g.x, g.clusters, 600, 43, 2);
    EXPECT_NE(a.value, c.value);
    // A sample of a third of the rows estimates the full score within a few hundredths.
    EXPECT_NEAR(a.value, g.scalar("silhouette_X_kmeans"), 0.03);
    const SampledScore full1 = silhouette_score(g.x, g.clusters, 0, 0, 1);
    const SampledScore full2 = silhouette_score(g.x, g.clusters, 0, 0, 2);
    EXPECT_EQ(std::memcmp(&full1.value, &full2.value, sizeof(double)), 0);
}

TEST(MetricsSilhouette, ValidatesInputs) {
    const auto& g = test::metrics_golden();
    const std::span<const int32_t> short_labels(g.labels.data(), 100);
    EXPECT_THROW(silhouette_score(g.x, short_labels, 0, 0), Error);
    const std::vector<int32_t> one_label(1797, 3);
    EXPECT_THROW(silhouette_score(g.x, one_label, 0, 0), Error);
    Matrix bad = g.pca2;
    bad(5, 1) = std::numeric_limits<float>::quiet_NaN();
    EXPECT_THROW(silhouette_score(bad, g.labels, 0, 0), Error);
}

// ---- k-NN cross-validated accuracy ---------------------------------------------------------

TEST(MetricsKnn, StratifiedFoldsMatchSklearn) {
    const auto& g = test::metrics_golden();
    EXPECT_EQ(stratified_test_folds(g.labels, 5), g.ints("stratified_fold_of_row"));
    EXPECT_EQ(stratified_test_folds(g.ints("stratified_unbalanced_labels"), 5),
              g.ints("stratified_unbalanced_folds"));
}

// Predictions are discrete: on the 2-D PCA coordinates distances are computed in double from
// the same float32 values sklearn's KD-tree uses, so every prediction should agree (0 slack).
// On the integer-valued 64-D features, equal distances at the k-th neighbour are common and
// sklearn's brute backend orders such ties its own way; one prediction per fold (1/360) is
// allowed to differ.
TEST(MetricsKnn, DigitsMatchesSklearn) {
    const auto& g = test::metrics_golden();
    const KnnAccuracy p = knn_cv_accuracy(g.pca2, g.labels, 10, 5, 2);
    EXPECT_TRUE(test::all_close(p.per_fold, g.get("knn10_cv5_pca2"), 1e-12, 0));
    const KnnAccuracy x = knn_cv_accuracy(g.x, g.labels, 10, 5, 2);
    EXPECT_TRUE(test::all_close(x.per_fold, g.get("knn10_cv5_X"), 1.0 / 359 + 1e-12, 0));
    double mean = 0;
    for (double v : g.get("knn10_cv5_X")) mean += v / 5;
    EXPECT_NEAR(x.mean, mean, 1.0 / 359 + 1e-12);
    EXPECT_EQ(x.smallest_class, 174u);
}

TEST(MetricsKnn, SameForAnyThreadCount) {
    const auto& g = test::metrics_golden();
    const KnnAccuracy a = knn_cv_accuracy(g.x, g.labels, 5, 3, 1);
    const KnnAccuracy b = knn_cv_accuracy(g.x, g.labels, 5, 3, 3);
    EXPECT_EQ(a.per_fold, b.per_fold);
}

TEST(MetricsKnn, ValidatesInputs) {
    const auto& g = test::metrics_golden();
    const std::span<const int32_t> short_labels(g.labels.data(), 10);
    EXPECT_THROW(knn_cv_accuracy(g.pca2, short_labels), Error);
    const ConstMatView tiny = g.pca2.row_range(0, 8);
    const std::span<const int32_t> tiny_labels(g.labels.data(), 8);  // 8 classes of 1 member
    EXPECT_THROW(knn_cv_accuracy(tiny, tiny_labels, 3, 5), Error);
    EXPECT_THROW(knn_cv_accuracy(g.pca2, g.labels, 10, 1), Error);
}

// ---- trustworthiness -----------------------------------------------------------------------

// Our ranks are exact (float32 GEMM with a rigorous error bound, doubtful comparisons redone in
// double) and ties go to the lower row index, i.e. a stable argsort of float64 distances: that
// value (tools/golden_metrics.py `trustworthiness_stable`) must agree to rounding, 1e-12.
// sklearn itself argsorts float32 distances with an unstable sort; on the integer-valued digits
// (many equal distances) its tie order moves T by 3e-6 (k=5) and 6e-6 (k=10) from the stable
// value, so against sklearn's own number the tolerance is 1e-5. One rank shifted by one moves T
// by only 2/(1797·10·3580) ≈ 3e-8, so 1e-5 still rejects any systematic error.
constexpr double kTrustExactAtol = 1e-12;
constexpr double kTrustSklearnAtol = 1e-5;

TEST(MetricsTrust, DigitsMatchesSklearn) {
    const auto& g = test::metrics_golden();
    for (size_t k : {5, 10}) {
        SCOPED_TRACE(k);
        const SampledScore t = trustworthiness(g.x, g.pca2, k, 0, 0, 2);
        const std::string kk = "k" + std::to_string(k);
        EXPECT_NEAR(t.value, g.scalar("trustworthiness_stable_" + kk), kTrustExactAtol);
        EXPECT_NEAR(t.value, g.scalar("trustworthiness_" + kk), kTrustSklearnAtol);
        EXPECT_FALSE(t.sampled);
        EXPECT_EQ(t.sample_size, 1797u);
    }
}

// Continuous data (few ties, real float32 GEMM rounding), 300 > one 64-query block and
// 20-D > the direct-path limit: the bounded fast path must equal the double reference.
TEST(MetricsTrust, FastPathMatchesReference) {
    Rng rng(5);
    Matrix high(300, 20), low(300, 2);
    for (float& v : high.values()) v = static_cast<float>(rng.normal() * 0.1 + 100.0);
    for (size_t i = 0; i < 300; ++i) {
        low(i, 0) = high(i, 0) + static_cast<float>(rng.normal() * 0.05);
        low(i, 1) = high(i, 1);
    }
    EXPECT_NEAR(trustworthiness(high, low, 7, 0, 0, 2).value,
                reference::trustworthiness(high, low, 7), kTrustExactAtol);
    const auto& g = test::metrics_golden();
    const ConstMatView hx = g.x.row_range(0, 500), lx = g.pca2.row_range(0, 500);
    EXPECT_NEAR(trustworthiness(hx, lx, 7, 0, 0, 1).value, reference::trustworthiness(hx, lx, 7),
                kTrustExactAtol);
}

TEST(MetricsTrust, SampledIsSeededAndThreadIndependent) {
    const auto& g = test::metrics_golden();
    const SampledScore a = trustworthiness(g.x, g.pca2, 10, 500, 7, 1);
    const SampledScore b = trustworthiness(g.x, g.pca2, 10, 500, 7, 3);
    EXPECT_TRUE(a.sampled);
    EXPECT_EQ(a.sample_size, 500u);
    EXPECT_EQ(std::memcmp(&a.value, &b.value, sizeof(double)), 0);
    // Unbiased estimate from 500 of 1797 query rows.
    EXPECT_NEAR(a.value, g.scalar("trustworthiness_k10"), 0.01);
}

TEST(MetricsTrust, ValidatesInputs) {
    const auto& g = test::metrics_golden();
    const ConstMatView hx = g.x.row_range(0, 20), lx = g.pca2.row_range(0, 20);
    EXPECT_THROW(trustworthiness(hx, lx, 10, 0, 0), Error);  // k = N/2
    EXPECT_NO_THROW(trustworthiness(hx, lx, 9, 0, 0));
    EXPECT_THROW(trustworthiness(g.x, lx, 5, 0, 0), Error);
}

}  // namespace
}  // namespace promptlens
