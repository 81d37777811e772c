// Principal component analysis with scikit-learn 1.2 `PCA(n_components=k)` semantics: centre the
// columns, take the top k right singular vectors of the centred matrix Xc, report
// explained_variance = S²/(n−1), its ratio to the total variance, and flip signs as sklearn's
// svd_flip does (u-based: in every score column, the entry of largest |value| is positive;
// sklearn's randomized/transposed path flips on the same score column), so coordinates equal
// sklearn's, not just up to sign.
//
// Two solvers, both deterministic for any thread count (fixed row blocks, partial sums combined
// in block order; BLAS single-threaded):
//  - exact: the d×d covariance Σ_b Xc_bᵀ·Xc_b (float SYRK per row block into 8 group partials
//    summed in double) and its top-k eigenvectors to double precision (block Krylov, LAPACK
//    dsyevr fallback; linalg/randomized_svd.hpp); when d > n the n×n Gram matrix Xc·Xcᵀ instead.
//    Not an approximation: the only error is float32 rounding, like sklearn's float32 SVD.
//  - randomized: subspace iteration on XcᵀXc (linalg/randomized_svd.hpp), one fused pass over X
//    per power iteration (power_iterations + 2 passes, sklearn's randomized_svd makes
//    2·power_iterations + 2), never forming d×d; for wide data such as 25,000 × 50,257 logits.
// In both, coordinates are Xc·V computed per row block, and S_j = ‖Xc·v_j‖ (double).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/matrix.hpp"

namespace promptlens {

enum class PcaSolver { automatic, exact, randomized };

const char* to_string(PcaSolver solver);

struct PcaOptions {
    size_t components = 2;  // k, 1 ≤ k ≤ min(n, d)
    // automatic: exact when min(n, d) ≤ kPcaExactMaxDim = 1024, else randomized. Measured on
    // 25,000 × 768, one thread: exact 0.19 s vs randomized 0.25 s for k = 2, 0.25 s vs 0.60 s
    // for k = 50; the covariance cost grows as d² and randomized as d·k: for k = 2 they cross
    // between 1,024 and 1,536 columns (measured), later for larger k. For much wider data d×d (or
    // n×n) would not fit anyway (50,257² doubles = 20 GB).
    PcaSolver solver = PcaSolver::automatic;
    size_t oversamples = 10;    // randomized only: basis size k + oversamples (sklearn's default)
    int power_iterations = -1;  // randomized only; -1 = 7 if k < 0.1·min(n,d) else 4 (as sklearn)
    uint64_t seed = 0;          // randomized only: the random start basis
    int threads = 1;            // 0 = all hardware threads; results do not depend on it
};

// automatic picks the exact solver up to this min(n, d).
inline constexpr size_t kPcaExactMaxDim = 1024;

struct PcaModel {
    std::vector<float> mean;                       // d
    Matrix components;                             // k×d unit principal axes, sign as svd_flip
    std::vector<double> explained_variance;        // k, S²/(n−1)
    std::vector<double> explained_variance_ratio;  // k, explained_variance / total_variance
    std::vector<double> singular_values;           // k
    double total_variance = 0;                     // Σ per-column variances (ddof = 1)
    PcaSolver solver_used = PcaSolver::exact;
    size_t power_iterations_used = 0;  // randomized only

    // (x − mean)·componentsᵀ: x is N×d, the result N×k.
    Matrix transform(ConstMatView x, int threads = 1) const;
};

// x is n×d (n ≥ 2). Throws Error on k outside [1, min(n, d)] or n < 2.
PcaModel pca_fit(ConstMatView x, const PcaOptions& options);
// The n×k coordinates of the rows of x, equal to pca_fit(...).transform(x) but without a second
// projection pass.
Matrix pca_fit_transform(ConstMatView x, const PcaOptions& options, PcaModel* model = nullptr);

namespace reference {
// Plain oracle for tests: double-precision thin SVD (LAPACK dgesdd) of the explicitly centred
// matrix, svd_flip on U, exactly as sklearn's svd_solver='full'. Coordinates are written to
// `scores` (n×k) when given. Small inputs only.
PcaModel pca_fit(ConstMatView x, size_t components, Matrix* scores = nullptr);
}  // namespace reference

}  // namespace promptlens
