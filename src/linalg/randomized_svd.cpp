#include "linalg/randomized_svd.hpp"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "linalg/eigen.hpp"
#include "linalg/gemm.hpp"

namespace promptlens {

void syrk_upper_accumulate(ConstMatView a, MatView c) {
    const size_t n = a.cols();
    require(c.rows() == n && c.cols() == n, "internal: syrk shape mismatch");
    if (n == 0 || a.rows() == 0) return;
    // blas::gemm has already set OpenBLAS to one thread if anything ran before; make sure.
    static const bool single = [] {
        openblas_set_num_threads(1);
        return true;
    }();
    (void)single;
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(n),
                static_cast<int>(a.rows()), 1.0f, a.data(),
                static_cast<int>(std::max<size_t>(a.stride(), 1)), 1.0f, c.data(),
                static_cast<int>(c.stride()));
}

MatrixD orthonormalize_columns(const MatrixD& a) {
    const size_t m = a.rows(), r = a.cols();
    require(m >= r && r >= 1, "internal: orthonormalize_columns of a {}x{} matrix", m, r);
    MatrixD q = a;
    std::vector<double> tau(r);
    auto lm = static_cast<lapack_int>(m), lr = static_cast<lapack_int>(r);
    lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, lm, lr, q.data(), lr, tau.data());
    require(info == 0, "LAPACK dgeqrf failed (info {}) on a {}x{} matrix", info, m, r);
    info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, lm, lr, lr, q.data(), lr, tau.data());
    require(info == 0, "LAPACK dorgqr failed (info {}) on a {}x{} matrix", info, m, r);
    return q;
}

namespace {

Matrix to_float(const MatrixD& a) {
    Matrix out(a.rows(), a.cols());
    for (size_t i = 0; i < a.size(); ++i) out.data()[i] = static_cast<float>(a.data()[i]);
    return out;
}

}  // namespace

RandomizedSvdResult randomized_top_right_singular(size_t n, const GramProduct& gram_product,
                                                  const RandomizedSvdOptions& options) {
    const size_t k = options.rank;
    require(k >= 1 && k <= n, "internal: randomized SVD rank {} with {} columns", k, n);
    const size_t r = std::min(n, k + options.oversamples);

    // Q0: n×r standard normals, drawn row by row from one stream (independent of threads).
    MatrixD q(n, r);
    Rng rng(options.seed);
    for (size_t i = 0; i < q.size(); ++i) q.data()[i] = rng.normal();

    RandomizedSvdResult out;
    MatrixD z(n, r);
    // One sampling product plus `power_iterations` more: span(Q) = span((AᵀA)^(q+1)·Q0), the same
    // Krylov degree as the right factor of scikit-learn's randomized_svd with n_iter = q.
    for (size_t it = 0; it <= options.power_iterations; ++it) {
        Matrix qf = to_float(q);
        gram_product(qf, z);
        ++out.products;
        q = orthonormalize_columns(z);
    }
    // Rayleigh–Ritz: H = Qᵀ·AᵀA·Q (r×r), H = W·Λ·Wᵀ, V = Q·W.
    Matrix qf = to_float(q);
    gram_product(qf, z);
    ++out.products;
    MatrixD qd(n, r);  // the float basis actually used in the product, for consistency
    for (size_t i = 0; i < q.size(); ++i) qd.data()[i] = qf.data()[i];
    MatrixD h(r, r);
    blas::gemm(Trans::T, Trans::N, 1.0, qd.view(), z.view(), 0.0, h.view());
    for (size_t i = 0; i < r; ++i)
        for (size_t j = i + 1; j < r; ++j) h(i, j) = h(j, i) = 0.5 * (h(i, j) + h(j, i));
    SymmetricEigen eig = symmetric_eigen_top(h, k);
    out.v = MatrixD(n, k);
    blas::gemm(Trans::N, Trans::N, 1.0, qd.view(), eig.vectors.view(), 0.0, out.v.view());
    out.values = eig.values;
    MatrixD cv(n, k);
    blas::gemm(Trans::N, Trans::N, 1.0, z.view(), eig.vectors.view(), 0.0, cv.view());
    const double scale = std::max(std::fabs(out.values[0]), 1e-300);
    out.residuals.assign(k, 0.0);
    for (size_t j = 0; j < k; ++j) {
        double res = 0;
        for (size_t i = 0; i < n; ++i) {
            const double e = cv(i, j) - out.values[j] * out.v(i, j);
            res += e * e;
        }
        out.residuals[j] = std::sqrt(res) / scale;
    }
    return out;
}

}  // namespace promptlens

namespace promptlens {

void project_out(const MatrixD& kbasis, size_t m, MatrixD& b) {
    if (m == 0) return;
    const size_t n = kbasis.rows(), r = b.cols();
    MatrixView<const double> k(kbasis.data(), n, m, kbasis.cols());
    MatrixD coef(m, r);
    blas::gemm(Trans::T, Trans::N, 1.0, k, b.view(), 0.0, coef.view());
    blas::gemm(Trans::N, Trans::N, -1.0, k, coef.view(), 1.0, b.view());
}

SymmetricEigen psd_eigen_top(const MatrixD& c, size_t k, size_t* iterations) {
    const size_t n = c.rows();
    require(c.cols() == n && k >= 1 && k <= n, "internal: psd_eigen_top({}) of a {}x{} matrix", k,
            n, c.cols());
    if (iterations != nullptr) *iterations = 0;
    const size_t r = std::min(n, k + 10);
    // Block Krylov space K = [Q0, C·Q0, C²·Q0, ...] (orthonormal, n×m, m = r·steps). Cost
    // ~2·n²·m + 4·n·m² flops against ~(4/3)·n³ for dsyevr: keep m ≤ n/4 and use LAPACK when
    // fewer than 4 steps would fit (k ≳ n/16), where the Krylov space rarely converges in time.
    const size_t max_steps = n / 4 / r;
    if (max_steps < 4) return symmetric_eigen_top(c, k);
    const size_t m_max = max_steps * r;

    MatrixD kb(n, m_max), ck(n, m_max);  // K and C·K, filled r columns per step
    MatrixD block(n, r);
    Rng rng(0);
    for (size_t i = 0; i < block.size(); ++i) block.data()[i] = rng.normal();
    block = orthonormalize_columns(block);
    const double tiny = 1e-13;
    for (size_t step = 1; step <= max_steps; ++step) {
        const size_t m0 = (step - 1) * r, m = step * r;
        for (size_t i = 0; i < n; ++i)
            for (size_t j = 0; j < r; ++j) kb(i, m0 + j) = block(i, j);
        MatrixD w(n, r);
        blas::gemm(Trans::N, Trans::N, 1.0, c.view(), block.view(), 0.0, w.view());
        for (size_t i = 0; i < n; ++i)
            for (size_t j = 0; j < r; ++j) ck(i, m0 + j) = w(i, j);

        // Rayleigh–Ritz on span(K): H = Kᵀ·C·K (m×m).
        MatrixView<const double> kv(kb.data(), n, m, m_max), ckv(ck.data(), n, m, m_max);
        MatrixD h(m, m);
        blas::gemm(Trans::T, Trans::N, 1.0, kv, ckv, 0.0, h.view());
        for (size_t i = 0; i < m; ++i)
            for (size_t j = i + 1; j < m; ++j) h(i, j) = h(j, i) = 0.5 * (h(i, j) + h(j, i));
        SymmetricEigen ritz = symmetric_eigen_top(h, k);
        MatrixD v(n, k), cv(n, k);
        blas::gemm(Trans::N, Trans::N, 1.0, kv, ritz.vectors.view(), 0.0, v.view());
        blas::gemm(Trans::N, Trans::N, 1.0, ckv, ritz.vectors.view(), 0.0, cv.view());
        const double scale = std::max(std::fabs(ritz.values[0]), 1e-300);
        double worst = 0;
        for (size_t j = 0; j < k; ++j) {
            double res = 0;
            for (size_t i = 0; i < n; ++i) {
                double e = cv(i, j) - ritz.values[j] * v(i, j);
                res += e * e;
            }
            worst = std::max(worst, std::sqrt(res));
        }
        // Next block: W with K projected out twice (classical Gram–Schmidt, re-orthogonalised).
        project_out(kb, m, w);
        project_out(kb, m, w);
        double wnorm = 0;
        for (double x : w.values()) wnorm = std::max(wnorm, std::fabs(x));
        const bool exhausted = wnorm <= tiny * scale;  // span(K) is invariant: Ritz pairs exact
        if (worst <= 1e-10 * scale || exhausted) {
            if (iterations != nullptr) *iterations = step;
            return {ritz.values, std::move(v)};
        }
        block = orthonormalize_columns(w);
        project_out(kb, m, block);  // directions QR invented for (near-)zero columns
        block = orthonormalize_columns(block);
    }
    return symmetric_eigen_top(c, k);
}

}  // namespace promptlens
