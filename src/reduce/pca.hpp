// Principal component analysis with scikit-learn 1.2 `PCA(n_components=k)` semantics: centre the
// columns, take the top k right singular vectors of the centred matrix Xc, report
// explained_variance = S²/(n−1), its ratio to the total variance, and flip signs as sklearn's
// svd_flip does (u-based: in every score column, the entry of largest |value| is positive;
// sklearn's randomized/transposed path flips on the same score column), so coordinates equal
// sklearn's, not just up to sign.
//
// Two solvers, both deterministic for any thread count (fixed row blocks, partial sums combined
// in block order; BLAS single-threaded):
//  - exact: the top-k eigenvectors of C = XcᵀXc to a verified accuracy, by one of two methods
//    (PcaExactMethod). `covariance` forms C = Σ_b Xc_bᵀ·Xc_b (float SYRK per row block into 8
//    group partials summed in double) and solves it in double (block Krylov, LAPACK dsyevr
//    fallback; linalg/randomized_svd.hpp); when d > n the n×n Gram matrix Xc·Xcᵀ instead.
//    `implicit` never forms C: block Krylov (linalg/block_krylov.hpp) applies C as one fused pass
//    over X per product (centre on the fly, Y = Xc_b·Q, Z += Xc_bᵀ·Y, an AVX2 register-tiled
//    kernel for b ∈ {8, 16, 24, 32}), 4·N·d·b flops against the covariance's N·d², from a random
//    start whose rows are scaled by the column standard deviations (from the mean pass), and stops
//    when every wanted Ritz pair has ‖C·v − θ·v‖ ≤ 1e-6·θ₁ (checked, no extra pass); if that
//    takes more than kPcaKrylovMaxProducts passes it falls back to `covariance`. Neither is an
//    approximation: the only error is float32 rounding, like sklearn's float32 SVD. Measured on
//    25,000 × 768 (bench synthetic) against the float64 SVD: scores within 8.2e-7 / 9.4e-7
//    (covariance, k = 2 / 10) and 8.7e-7 / 1.3e-6 (implicit, 4 passes for k = 2, 6 for k = 10)
//    of the column scale.
//  - randomized (only when asked for): subspace iteration on XcᵀXc (linalg/randomized_svd.hpp),
//    one fused pass over X per power iteration (power_iterations + 2 passes, sklearn's
//    randomized_svd makes 2·power_iterations + 2), never forming d×d. Like sklearn's, its answer
//    is not converged in general (2,000 × 50,257 synthetic, k = 2: 1–2% of the column range off
//    the exact scores); the model reports its residual.
// automatic = exact for every shape. Wide data (min(n, d) > kPcaExactMaxDim, e.g. 25,000 × 50,257
// logits) uses the implicit method with a larger pass budget (kPcaWideMaxProducts); when that does
// not converge it falls back to the covariance / Gram matrix if min(n, d) ≤ kPcaGramMaxDim, and
// otherwise returns the unconverged Krylov answer reported as such: solver_used = randomized,
// converged = false, krylov_products = the passes, residual = how far off.
// In both, coordinates are Xc·V computed per row block, and S_j = ‖Xc·v_j‖ (double).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/matrix.hpp"

namespace promptlens {

enum class PcaSolver { automatic, exact, randomized };
// How the exact solver gets the top-k eigenpairs of C = XcᵀXc (both to the same verified
// accuracy): `covariance` forms C (or the n×n Gram matrix when d > n); `implicit` runs block
// Krylov on C applied as fused passes over X, never forming it, and falls back to `covariance`
// when it does not converge within kPcaKrylovMaxProducts passes.
enum class PcaExactMethod { automatic, covariance, implicit };

const char* to_string(PcaSolver solver);
const char* to_string(PcaExactMethod method);

// Implicit exact method: block width b for k components (k + 6 rounded up to the kernel's
// multiple of 8), the pass budget before falling back to the covariance (the wasted passes then
// cost 10·4·b·1.5 ≈ 0.6·d flops per row for k = 2 at d = 768, i.e. a fallback costs ~1.6× the
// covariance alone), and the relative residual each wanted pair must reach: the float32 products
// leave a floor near 1e-7 (measured: 7e-8 – 1.2e-7 after 5–6 passes), 1e-6 sits safely above it
// (the residual falls ~50× per pass here, so a tighter tolerance would cost about one pass).
inline size_t pca_krylov_block(size_t k) {
    return (k + 6 + 7) / 8 * 8;
}
inline constexpr size_t kPcaKrylovMaxProducts = 10;
// Pass budget of the implicit method when min(n, d) > kPcaExactMaxDim. Why 24: (1) cost, for
// k ≤ 2 (b = 8) 24 passes are 24·4·8·1.5 ≈ 1,150 flops per entry, about the covariance / Gram
// cost min(n, d) at the 1,024 threshold, so the budget never costs much more than the exact
// fallback it protects; (2) convergence, block Krylov reduces the error by roughly
// exp(−2·√γ) per pass (γ = λ_k/λ_{b+1} − 1), so 24 passes reach the 1e-6 residual for gaps down
// to γ ≈ 0.1, i.e. the (k+1)-th-to-(b+1)-th eigenvalues may be as close as 10%;
// (3) memory, the basis and its products are 2·d·24·b doubles (154 MB at d = 50,257, k = 2).
inline constexpr size_t kPcaWideMaxProducts = 24;
// Largest min(n, d) for which the covariance / Gram matrix (min(n, d)² doubles: 512 MB at
// 8,192, plus float partials) may be formed automatically as the fallback (or when the cost
// model finds it cheaper); above it only the implicit method runs.
inline constexpr size_t kPcaGramMaxDim = 8192;
inline constexpr double kPcaKrylovTolerance = 1e-6;
// Cost model of PcaExactMethod::automatic, in flops per n·d: covariance min(n, d) (SYRK, or the
// Gram matrix when d > n), implicit expected passes × 4·b × penalty, implicit chosen when
// cheaper. Measured, one thread, 25,000 × 768 (a shared, loaded machine): k = 2 (b = 8, 4
// passes) implicit 0.067 s vs covariance 0.20 s; k = 10 (b = 16, 6 passes) 0.135 s vs 0.21 s;
// k = 50 (b = 56, no kernel, OpenBLAS sgemm) 0.47 s vs 0.26 s. Per flop the implicit passes
// take ~1.1× (b = 8) to 1.4× (b = 16) SYRK's time with the kernel, ~3× with sgemm at other
// widths or without AVX2: penalty 1.5 (3 without the kernel).
// So at d = 768: implicit for k ≤ 10 (6·64·1.5 = 576 < 768), covariance for k ≥ 11 (b = 24).
inline constexpr double kPcaKrylovExpectedProducts = 6;
inline constexpr double kPcaKrylovFlopPenalty = 1.5;

struct PcaOptions {
    size_t components = 2;  // k, 1 ≤ k ≤ min(n, d)
    // automatic: exact (see the top of this file for wide data). Until this version automatic
    // chose randomized above min(n, d) = 1,024 (measured on 25,000 × 768: covariance cost grows
    // as d², randomized as d·k); the implicit method now makes exact as cheap as randomized there.
    PcaSolver solver = PcaSolver::automatic;
    // exact only; automatic = the cheaper by the cost model above (kPcaKrylovExpectedProducts).
    PcaExactMethod exact_method = PcaExactMethod::automatic;
    // implicit only: pass budget; 0 = kPcaKrylovMaxProducts, or kPcaWideMaxProducts when
    // min(n, d) > kPcaExactMaxDim.
    size_t krylov_max_products = 0;
    // automatic exact method only: the largest min(n, d) for which the covariance / Gram matrix
    // may be formed (as the cheaper method or the fallback); above it an unconverged implicit
    // result is returned as randomized, converged = false.
    size_t gram_max_dim = kPcaGramMaxDim;
    size_t oversamples = 10;    // randomized only: basis size k + oversamples (sklearn's default)
    int power_iterations = -1;  // randomized only; -1 = 7 if k < 0.1·min(n,d) else 4 (as sklearn)
    uint64_t seed = 0;          // randomized only: the random start basis
    int threads = 1;            // 0 = all hardware threads; results do not depend on it
};

// Up to this min(n, d) the implicit method gets kPcaKrylovMaxProducts passes, above it
// kPcaWideMaxProducts (the covariance fallback costs min(n, d) flops per entry).
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
    // exact only: the method that produced the result (covariance after a fallback), and the
    // passes over X the implicit method made (0 when it was not tried).
    PcaExactMethod exact_method_used = PcaExactMethod::covariance;
    size_t krylov_products = 0;
    // Whether the axes are verified: true for the covariance method and for Krylov / randomized
    // answers whose every pair has ‖C·v − θ·v‖ ≤ kPcaKrylovTolerance·θ₁; false for an unconverged
    // wide fallback (solver_used = randomized) or a randomized answer above that residual.
    bool converged = true;
    // Largest relative residual ‖C·v_j − θ_j·v_j‖ / θ₁ of the returned axes where the solver
    // computed one (implicit, randomized); −1 for the covariance method (exact by construction).
    double residual = -1;

    // (x − mean)·componentsᵀ: x is N×d, the result N×k.
    Matrix transform(ConstMatView x, int threads = 1) const;
};

// One line for logs, e.g. "exact (implicit, 9 passes, residual 4.1e-07)" or "randomized (NOT
// converged: 24 Krylov passes, residual 3.2e-04)".
std::string describe(const PcaModel& model);

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
