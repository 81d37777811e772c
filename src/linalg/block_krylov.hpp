// Top-k eigenpairs of a symmetric positive semi-definite operator C that is only available
// through block products Z = C·Q (block Lanczos with full re-orthogonalisation and Rayleigh–Ritz
// on the whole Krylov space, Golub & Underwood 1977). Each product is the expensive part: for
// PCA, C = XcᵀXc is applied in one fused pass over X (centre a row block, Y = Xc_b·Q, Z +=
// Xc_bᵀ·Y) without ever forming the d×d covariance, which for small k costs far fewer flops than
// the covariance itself (4·N·d·b per product for block width b, against N·d²).
//
// The products take the basis in float (what the pass multiplies with), so the Krylov basis K is
// kept as exactly those float values; it is orthonormal only to float rounding, so the small
// Rayleigh–Ritz problem is solved as the generalised problem (KᵀCK)·w = θ·(KᵀK)·w in double.
// Convergence is verified, not assumed: each wanted Ritz pair (θ_j, v_j = K·w_j, C·v_j = (CK)·w_j,
// no extra product) must have ‖C·v_j − θ_j·v_j‖ ≤ tolerance·θ₁. When that does not happen within
// max_products, `converged` is false and the caller must use something else (PCA falls back to
// the covariance solver).
#pragma once

#include <cstdint>
#include <vector>

#include "core/matrix.hpp"
#include "linalg/randomized_svd.hpp"

namespace promptlens {

struct BlockKrylovOptions {
    size_t rank = 2;           // k: how many eigenpairs are wanted (largest first)
    size_t block = 8;          // b ≥ k: columns added per product (the width of each product)
    size_t max_products = 12;  // give up (converged = false) after this many products
    // Relative residual ‖C·v − θ·v‖ / θ₁ every wanted pair must reach. The products are float32
    // (like the covariance path's float SYRK), whose rounding leaves a floor near 1e-7; 1e-6
    // keeps eigenvector errors at the float32 level that the covariance path has (see pca.hpp).
    double tolerance = 1e-6;
    uint64_t seed = 0;  // the random start block (n×b standard normals from Rng(seed))
    // Optional (empty = none), n entries: row i of the random start block is multiplied by
    // start_row_scale[i]. PCA passes √diag(C) (column standard deviations), which tilts the start
    // towards high-variance coordinates; still random, so no direction is missed.
    std::vector<double> start_row_scale;
};

struct BlockKrylovResult {
    MatrixD v;                   // n×k unit Ritz vectors (columns), θ descending
    std::vector<double> values;  // k Ritz values θ
    std::vector<double> residuals;  // k relative residuals ‖C·v_j − θ_j·v_j‖ / θ₁ at the end
    size_t products = 0;            // products evaluated
    bool converged = false;         // every wanted residual ≤ tolerance (or K became invariant)
};

// n is the operator's dimension. `product(q, z)`: q is n×r float, z (n×r, double, pre-sized)
// must receive C·q, where r ≤ options.block.
BlockKrylovResult block_krylov_top_eigen(size_t n, const GramProduct& product,
                                         const BlockKrylovOptions& options);

}  // namespace promptlens
