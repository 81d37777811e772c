// StandardScaler against scikit-learn 1.2.1 (tools/golden_pca.py writes
// tests/data/sklearn/scaler/): statistics and output on digits (with all-zero columns) and on a
// matrix with constant columns; thread determinism.
#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "core/npy.hpp"
#include "core/rng.hpp"
#include "reduce/scaler.hpp"
#include "test_helpers.hpp"

namespace promptlens {
namespace {

Matrix golden(const std::string& name) {
    return read_npy_matrix(test::data_path("sklearn/scaler/" + name + ".npy"));
}

// sklearn's mean_/scale_ are float64 arrays: read them at full precision.
std::vector<double> golden_f64(const std::string& name) {
    auto path = test::data_path("sklearn/scaler/" + name + ".npy");
    NpyHeader h = read_npy_header(path);
    EXPECT_EQ(h.dtype, DType::f64);
    std::string bytes = test::read_bytes(path);
    std::vector<double> v(h.count());
    std::memcpy(v.data(), bytes.data() + h.data_offset, v.size() * sizeof(double));
    return v;
}

// Tolerances. Statistics: sklearn accumulates in float64 like us, in another order (pairwise):
// 1e-12 relative. Outputs: sklearn computes
// float32((x − mean64) / scale64) and we (x − float(mean))·float(1/scale) in float, a few float
// ulps apart: 2e-6 absolute on values of order 1 (scaled data lies within ±40 on digits, so use
// rtol 1e-6 too).

TEST(ScalerGolden, DigitsStatisticsAndOutput) {
    Matrix x = read_npy_matrix(test::data_path("digits/X.npy"));
    StandardScaler s = StandardScaler::fit(x);
    EXPECT_TRUE(test::all_close(s.mean, golden_f64("digits_mean"), 1e-12, 1e-12));
    EXPECT_TRUE(test::all_close(s.scale, golden_f64("digits_scale"), 1e-12, 1e-12));
    // Digits has all-zero pixel columns: scale 1, output 0.
    EXPECT_EQ(s.scale[0], 1.0);
    Matrix out = s.transform(x);
    Matrix ref = golden("digits_scaled_head");
    EXPECT_TRUE(
        test::all_close(test::flat(out.row_range(0, ref.rows())), test::flat(ref), 2e-6, 1e-6));
}

// Columns: constant 3.7, constant 0, a column with offset 1e4 (var ≈ 1), plain N(0, 1). Column 2
// of the golden file (1.0 except one entry one ulp higher) is the near-constant case, tested
// separately below.
TEST(ScalerGolden, ConstantColumns) {
    Matrix x = golden("const_X");
    StandardScaler s = StandardScaler::fit(x);
    std::vector<double> mean = golden_f64("const_mean"), scale = golden_f64("const_scale");
    Matrix out = s.transform(x);
    Matrix ref = golden("const_scaled");
    for (size_t j : {0u, 1u, 3u, 4u}) {
        SCOPED_TRACE(j);
        EXPECT_NEAR(s.mean[j], mean[j], 1e-12 * std::fabs(mean[j]) + 1e-15);
        EXPECT_NEAR(s.scale[j], scale[j], 1e-9 * scale[j]);  // 1e4 offset: var loses ~8 digits
        for (size_t i = 0; i < x.rows(); ++i) {
            // The 1e4 offset column loses float digits in x − mean (1e4 · 6e-8 = 6e-4 of a unit).
            const double atol = j == 3 ? 2e-3 : 2e-6;
            EXPECT_NEAR(out(i, j), ref(i, j), atol + 1e-6 * std::fabs(ref(i, j))) << "row " << i;
        }
    }
    EXPECT_EQ(s.scale[0], 1.0);
    EXPECT_EQ(s.scale[1], 1.0);
    for (size_t i = 0; i < x.rows(); ++i) EXPECT_EQ(out(i, 0), 0.0f);
}

// sklearn 1.2 (_is_constant_feature) treats a column as constant only when
// var ≤ n·eps·var + (n·mean·eps)² (the rounding bound of its two-pass variance), so a column of
// 1.0 with one entry at 1 + 2⁻²³ has var ≈ 2.2e-16 and scale 1.48e-8, not 1.
TEST(ScalerGolden, NearConstantColumnFollowsSklearnRule) {
    Matrix x = golden("const_X");
    StandardScaler s = StandardScaler::fit(x);
    std::vector<double> scale = golden_f64("const_scale");
    EXPECT_NEAR(s.scale[2], scale[2], 1e-6 * scale[2]);
}

TEST(ScalerProperties, BitwiseIdenticalForAnyThreadCount) {
    Rng rng(31);
    Matrix x(2600, 17);  // 3 row blocks of 1024, the last one partial
    for (float& v : x.values()) v = static_cast<float>(100 + 3 * rng.normal());
    StandardScaler s1 = StandardScaler::fit(x, 1);
    Matrix o1 = s1.transform(x, 1);
    for (int threads : {2, 3}) {
        StandardScaler st = StandardScaler::fit(x, threads);
        EXPECT_EQ(st.mean, s1.mean);
        EXPECT_EQ(st.scale, s1.scale);
        Matrix ot = st.transform(x, threads);
        EXPECT_EQ(std::memcmp(ot.data(), o1.data(), o1.size() * sizeof(float)), 0);
    }
}

TEST(ScalerProperties, OutputHasZeroMeanUnitVariance) {
    Rng rng(32);
    Matrix x(500, 4);
    for (float& v : x.values()) v = static_cast<float>(-20 + 5 * rng.normal());
    Matrix out = StandardScaler::fit(x).transform(x);
    for (size_t j = 0; j < 4; ++j) {
        double m = 0, v = 0;
        for (size_t i = 0; i < 500; ++i) m += out(i, j);
        m /= 500;
        for (size_t i = 0; i < 500; ++i) v += (out(i, j) - m) * (out(i, j) - m);
        EXPECT_NEAR(m, 0.0, 1e-6);
        EXPECT_NEAR(v / 500, 1.0, 1e-5);
    }
}

TEST(ScalerErrors, RejectsEmptyInputAndWrongWidth) {
    Matrix empty(0, 3);
    EXPECT_THROW(StandardScaler::fit(empty), Error);
    Matrix x(4, 3, 1.0f);
    StandardScaler s = StandardScaler::fit(x);
    Matrix other(2, 5);
    EXPECT_THROW(s.transform(other), Error);
}

}  // namespace
}  // namespace promptlens
