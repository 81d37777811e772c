// Randomized subspace iteration for the top right singular vectors of a matrix that is only
// available through its Gram product Z = AᵀA·Q (Halko, Martinsson & Tropp 2011, "Finding structure
// with randomness", Alg. 4.4 in its Gram form). Callers such as PCA supply the product in one
// fused pass over A's rows (centre a row block, Y = A_b·Q, Z += A_bᵀ·Y), so every iteration reads
// A once instead of the two passes of scikit-learn's randomized_svd; the basis is
// re-orthonormalised by Householder QR after every product. The final Rayleigh–Ritz step uses H =
// Qᵀ·(AᵀA·Q), so the result costs `power_iterations + 2` products and never forms a d×d or n×n
// matrix.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/matrix.hpp"
#include "linalg/eigen.hpp"

namespace promptlens {

struct RandomizedSvdOptions {
    size_t rank = 2;              // k: how many right singular vectors are wanted
    size_t oversamples = 10;      // extra basis vectors (r = k + oversamples, capped at n)
    size_t power_iterations = 7;  // products with AᵀA after the first (random) sample
    uint64_t seed = 0;            // the random start Q0 (n×r standard normals from Rng(seed))
};

struct RandomizedSvdResult {
    MatrixD v;  // n×k, orthonormal columns: approximate top right singular vectors
    std::vector<double> values;  // k Ritz values of AᵀA (≈ σ², descending)
    // k relative residuals ‖AᵀA·v_j − θ_j·v_j‖ / θ₁ of the returned pairs, from the final
    // product (AᵀA·V = Z·W, no extra product): how far from converged the answer is.
    std::vector<double> residuals;
    size_t products = 0;  // number of Gram products evaluated
};

// `gram_product(q, z)`: q is n×r (float), z (n×r, double, pre-sized) must receive AᵀA·q.
using GramProduct = std::function<void(ConstMatView q, MatrixD& z)>;

// n is the number of columns of A (the length of the right singular vectors).
RandomizedSvdResult randomized_top_right_singular(size_t n, const GramProduct& gram_product,
                                                  const RandomizedSvdOptions& options);

// The k largest eigenpairs of a symmetric positive semi-definite n×n matrix by block Krylov
// iteration (block Lanczos with full re-orthogonalisation and Rayleigh–Ritz on the whole Krylov
// space; block r = k + 10, fixed start from Rng(0)), stopped when every wanted residual
// ‖C·v − θ·v‖ ≤ 1e-10·θ₁, i.e. converged to double precision for any non-degenerate gap. Far
// cheaper than dsyevr's full tridiagonalisation when k ≪ n (768×768, k = 2: a few ms instead of
// ~35 ms). When the Krylov space would grow past n/4 columns it falls back to
// symmetric_eigen_top (LAPACK), so the result is always exact. `iterations` (optional) receives
// the number of Krylov steps, 0 = LAPACK was used.
SymmetricEigen psd_eigen_top(const MatrixD& c, size_t k, size_t* iterations = nullptr);

// C += Aᵀ·A on the upper triangle only (A is m×n, C n×n; float SYRK, the lower triangle is left
// untouched). For blocked covariance accumulation, where blas::syrk_t's mirroring of every call
// would cost ~6% of the pass; mirror once at the end.
void syrk_upper_accumulate(ConstMatView a, MatView c);

// Orthonormal basis of the columns of `a` (m×r, m ≥ r) by Householder QR (LAPACK dgeqrf +
// dorgqr): the thin Q, m×r. Rank-deficient input still yields orthonormal columns.
MatrixD orthonormalize_columns(const MatrixD& a);

// b ← b − K·(Kᵀ·b) for the first `m` columns of K (n×m_max, orthonormal columns): removes from
// b's columns their components in span(K) (block Gram–Schmidt step).
void project_out(const MatrixD& kbasis, size_t m, MatrixD& b);

}  // namespace promptlens
