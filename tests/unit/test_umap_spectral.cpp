// umap_spectral: the Krylov eigenvectors against dense LAPACK on a real graph, components,
// and the fallbacks.
#include <gtest/gtest.h>

#include <cmath>

#include "embed/umap_spectral.hpp"
#include "test_umap_golden.hpp"

namespace promptlens {
namespace {

// The fuzzy graph of the first `rows` digits (k = 15).
SparseGraph digits_graph(size_t rows) {
    const auto& x = test::umap_golden().x;
    ConstMatView v = x.view().row_range(0, rows);
    return fuzzy_simplicial_set(umap_neighbors(v, v, 15, UmapMetric::euclidean, true, 2), 2);
}

TEST(UmapSpectral, KrylovMatchesDenseEigenvectors) {
    // 1,200 rows: above the dense cut-off (512), so the Krylov path runs; small enough for the
    // dense oracle. Eigenvectors are compared as subspaces: the principal angles' cosines (singular
    // values of VᵀU, both orthonormal) must all be ≥ 1 − 1e-3. The Krylov tolerance is a 1e-4
    // relative residual (umap-learn's eigsh tol), which bounds the angle by residual / gap.
    const SparseGraph g = digits_graph(1200);
    SpectralInit s = umap_spectral_init(g, 2, {}, 0, 2);
    ASSERT_EQ(s.components, 1u);
    EXPECT_TRUE(s.converged) << s.note;
    const MatrixD ref = reference::spectral_layout_dense(g, 2);
    double vu[2][2] = {}, nu[2] = {};
    for (size_t i = 0; i < g.rows; ++i)
        for (size_t a = 0; a < 2; ++a) {
            nu[a] += double(s.embedding(i, a)) * s.embedding(i, a);
            for (size_t b = 0; b < 2; ++b) vu[a][b] += ref(i, a) * s.embedding(i, b);
        }
    // Columns of ours are unit vectors already (Ritz vectors); normalise against rounding.
    for (size_t a = 0; a < 2; ++a)
        for (size_t b = 0; b < 2; ++b) vu[a][b] /= std::sqrt(nu[b]);
    // Singular values of the 2×2 VᵀU.
    const double p =
        vu[0][0] * vu[0][0] + vu[0][1] * vu[0][1] + vu[1][0] * vu[1][0] + vu[1][1] * vu[1][1];
    const double det = vu[0][0] * vu[1][1] - vu[0][1] * vu[1][0];
    const double disc = std::sqrt(std::max(0.0, p * p / 4 - det * det));
    const double smin = std::sqrt(std::max(0.0, p / 2 - disc));
    EXPECT_GE(smin, 1 - 1e-3);
}

TEST(UmapSpectral, ComponentsAreLaidOutSeparatelyAndSaidAloud) {
    // Two far-apart copies of 300 digits rows: two components, each spectral, placed at ±e₁.
    const auto& x = test::umap_golden().x;
    Matrix two(600, 64);
    for (size_t i = 0; i < 600; ++i)
        for (size_t j = 0; j < 64; ++j) two(i, j) = x(i % 300, j) + (i >= 300 ? 1000.0f : 0.0f);
    const SparseGraph g =
        fuzzy_simplicial_set(umap_neighbors(two, two, 15, UmapMetric::euclidean, true, 1), 1);
    SpectralInit s = umap_spectral_init(g, 2, two, 0, 1);
    EXPECT_EQ(s.components, 2u);
    EXPECT_NE(s.note.find("2 connected components"), std::string::npos) << s.note;
    for (size_t i = 0; i < 600; ++i) {
        EXPECT_TRUE(std::isfinite(s.embedding(i, 0)) && std::isfinite(s.embedding(i, 1)));
        // Half the distance between the centres (2) around each: x in [0, 2] or [−2, 0].
        if (i < 300)
            EXPECT_GE(s.embedding(i, 0), -1e-6);
        else
            EXPECT_LE(s.embedding(i, 0), 1e-6);
    }
}

TEST(UmapSpectral, TinyGraphFallsBackToRandomAndSaysSo) {
    Matrix x(3, 2);
    x(1, 0) = 1;
    x(2, 1) = 1;
    const SparseGraph g =
        fuzzy_simplicial_set(umap_neighbors(x, x, 3, UmapMetric::euclidean, true, 1), 1);
    SpectralInit s = umap_spectral_init(g, 2, x, 0, 1);
    EXPECT_NE(s.note.find("random"), std::string::npos) << s.note;
}

TEST(UmapSpectral, SameForAnyThreadCount) {
    const SparseGraph g = digits_graph(900);
    const SpectralInit a = umap_spectral_init(g, 2, {}, 3, 1);
    const SpectralInit b = umap_spectral_init(g, 2, {}, 3, 3);
    ASSERT_EQ(a.embedding.size(), b.embedding.size());
    EXPECT_EQ(0, std::memcmp(a.embedding.data(), b.embedding.data(), a.embedding.size() * 4));
}

}  // namespace
}  // namespace promptlens
