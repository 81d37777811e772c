// umap: full runs on digits — quality against umap-learn's (10-NN CV accuracy, trustworthiness),
// invariants (finite, objective decreases, identical bytes for any thread count), supervised,
// transform, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "embed/umap.hpp"
#include "metrics/knn_accuracy.hpp"
#include "metrics/trustworthiness.hpp"
#include "test_umap_golden.hpp"

namespace promptlens {
namespace {

double mean_of(const std::string& prefix, size_t field) {
    double s = 0;
    for (int seed = 0; seed < 3; ++seed)
        s += test::umap_golden().get(prefix + std::to_string(seed)).at(field);
    return s / 3;
}

const UmapModel& digits_model() {
    static const UmapModel m = [] {
        UmapOptions o;
        o.seed = 0;
        o.threads = 2;
        return umap_fit(test::umap_golden().x, o);
    }();
    return m;
}

bool identical(const Matrix& a, const Matrix& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(Umap, DigitsQualityMatchesUmapLearn) {
    const auto& g = test::umap_golden();
    const UmapModel& m = digits_model();
    ASSERT_EQ(m.embedding.rows(), 1797u);
    for (float v : m.embedding.values()) ASSERT_TRUE(std::isfinite(v));
    EXPECT_EQ(m.epochs, 500u);
    EXPECT_TRUE(m.spectral_converged);
    // The bar of the issue: within 0.01 of umap-learn (mean of its seeds 0, 1, 2; its seeds
    // themselves spread by 0.005 in accuracy, 0.001 in trustworthiness).
    const double acc = knn_cv_accuracy(m.embedding, g.labels, 10, 5, 2).mean;
    const double trust = reference::trustworthiness(g.x, m.embedding, 10);
    EXPECT_GE(acc, mean_of("fit_seed", 0) - 0.01) << acc;
    EXPECT_GE(trust, mean_of("fit_seed", 1) - 0.01) << trust;
    RecordProperty("knn_accuracy", std::to_string(acc));
    RecordProperty("trustworthiness", std::to_string(trust));
}

TEST(Umap, ObjectiveDecreases) {
    const auto& obj = digits_model().objective;
    ASSERT_GE(obj.size(), 10u);
    EXPECT_LT(obj.back().second, 0.8 * obj.front().second)
        << obj.front().second << " -> " << obj.back().second;
    // Over the second half of the run it must not grow by more than noise.
    EXPECT_LE(obj.back().second, obj[obj.size() / 2].second * 1.02);
}

TEST(Umap, SameBytesForAnyThreadCount) {
    const auto& x = test::umap_golden().x;
    ConstMatView v = x.view().row_range(0, 600);
    UmapOptions o;
    o.seed = 7;
    o.epochs = 60;
    o.threads = 1;
    const Matrix a = umap_fit(v, o).embedding;
    o.threads = 2;
    const Matrix b = umap_fit(v, o).embedding;
    o.threads = 3;
    const Matrix c = umap_fit(v, o).embedding;
    EXPECT_TRUE(identical(a, b));
    EXPECT_TRUE(identical(a, c));
    o.seed = 8;
    EXPECT_FALSE(identical(a, umap_fit(v, o).embedding));
}

TEST(Umap, SerialScheduleIsTheReferenceAndAgreesInQuality) {
    // umap-learn's own loop (both ends moved, one RNG stream) against the parallel schedule: not
    // the same bytes, the same quality. On 900 rows one seed's 5-fold 10-NN accuracy moves by
    // ~0.02 between seeds (180 test rows per fold), trustworthiness by ~0.002: accuracy within
    // 0.04, trustworthiness within 0.01.
    const auto& g = test::umap_golden();
    ConstMatView v = g.x.view().row_range(0, 900);
    std::span<const int32_t> y(g.labels.data(), 900);
    UmapOptions o;
    o.seed = 1;
    o.epochs = 200;
    o.threads = 2;
    const UmapModel par = umap_fit(v, o);
    o.schedule = UmapSchedule::serial;
    const UmapModel ser = umap_fit(v, o);
    const double ap = knn_cv_accuracy(par.embedding, y, 10, 5, 2).mean;
    const double as = knn_cv_accuracy(ser.embedding, y, 10, 5, 2).mean;
    EXPECT_NEAR(ap, as, 0.04);
    EXPECT_NEAR(reference::trustworthiness(v, par.embedding, 10),
                reference::trustworthiness(v, ser.embedding, 10), 0.01);
    o.threads = 1;
    EXPECT_TRUE(identical(ser.embedding, umap_fit(v, o).embedding));
}

TEST(Umap, SupervisedSeparatesTheLabels) {
    const auto& g = test::umap_golden();
    UmapOptions o;
    o.seed = 0;
    o.threads = 2;
    o.epochs = 200;
    const UmapModel m = umap_fit(g.x, o, g.labels);
    EXPECT_TRUE(m.supervised);
    const double acc = knn_cv_accuracy(m.embedding, g.labels, 10, 5, 2).mean;
    EXPECT_GE(acc, mean_of("supervised_seed", 0) - 0.01) << acc;
}

TEST(Umap, TransformPlacesNewRowsAmongTheirClass) {
    // Fit on 1,500 digits, transform the other 297; a 10-NN classifier on the fitted embedding
    // must label the transformed rows as well as umap-learn's do (within 0.02: 297 rows, one row
    // is 0.0034).
    const auto& g = test::umap_golden();
    ConstMatView train = g.x.view().row_range(0, 1500),
                 test_rows = g.x.view().row_range(1500, 1797);
    UmapOptions o;
    o.seed = 0;
    o.threads = 2;
    o.epochs = 200;
    const UmapModel m = umap_fit(train, o);
    const Matrix t = umap_transform(m, train, test_rows);
    ASSERT_EQ(t.rows(), 297u);
    size_t correct = 0;
    for (size_t i = 0; i < t.rows(); ++i) {
        std::vector<std::pair<double, int32_t>> d;
        for (size_t j = 0; j < 1500; ++j) {
            const double dx = t(i, 0) - m.embedding(j, 0), dy = t(i, 1) - m.embedding(j, 1);
            d.emplace_back(dx * dx + dy * dy, g.labels[j]);
        }
        std::partial_sort(d.begin(), d.begin() + 10, d.end());
        int votes[10] = {};
        for (size_t k = 0; k < 10; ++k) ++votes[d[k].second];
        correct += std::max_element(votes, votes + 10) - votes == g.labels[1500 + i];
    }
    const double acc = static_cast<double>(correct) / 297.0;
    EXPECT_GE(acc, mean_of("transform_seed", 0) - 0.02) << acc;
    // Transform is deterministic too, and refuses other training data.
    EXPECT_TRUE(identical(t, umap_transform(m, train, test_rows)));
    EXPECT_NE(test::error_of([&] { umap_transform(m, g.x, test_rows); }).find("not what the model"),
              std::string::npos);
}

TEST(Umap, FewerRowsThanNeighboursIsTruncatedAloud) {
    Matrix x(8, 3);
    for (size_t i = 0; i < 8; ++i) x(i, i % 3) = static_cast<float>(i);
    UmapOptions o;
    const UmapModel m = umap_fit(x, o);
    EXPECT_EQ(m.n_neighbors, 7u);
    ASSERT_FALSE(m.notes.empty());
    EXPECT_NE(m.notes[0].find("n_neighbors 15"), std::string::npos) << m.notes[0];
    for (float v : m.embedding.values()) EXPECT_TRUE(std::isfinite(v));
    const UmapModel one = umap_fit(x.view().row_range(0, 1), o);
    EXPECT_EQ(one.embedding.rows(), 1u);
}

TEST(Umap, NaNIsRefusedWithItsPlace) {
    Matrix x(20, 3, 1.0f);
    x(4, 2) = std::nanf("");
    EXPECT_NE(test::error_of([&] { umap_fit(x, UmapOptions{}); }).find("row 4 column 2"),
              std::string::npos);
}

TEST(Umap, ManyIdenticalRowsStayFinite) {
    // 400 copies of one row and 200 distinct rows; and a matrix of identical rows only.
    const auto& x = test::umap_golden().x;
    Matrix d(600, 64);
    for (size_t i = 0; i < 600; ++i)
        for (size_t j = 0; j < 64; ++j) d(i, j) = x(i < 400 ? 0 : i, j);
    UmapOptions o;
    o.epochs = 50;
    o.threads = 2;
    // Named: a range-for over a temporary's member reads it after it is freed (ASan saw it).
    const UmapModel fitted = umap_fit(d, o);
    for (float v : fitted.embedding.values()) ASSERT_TRUE(std::isfinite(v));
    Matrix same(100, 5, 3.0f);
    const UmapModel m = umap_fit(same, o);
    for (float v : m.embedding.values()) ASSERT_TRUE(std::isfinite(v));
}

}  // namespace
}  // namespace promptlens
