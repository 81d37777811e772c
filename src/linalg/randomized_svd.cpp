#include "linalg/randomized_svd.hpp"

#include <lapacke.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "linalg/eigen.hpp"
#include "linalg/gemm.hpp"

namespace promptlens {

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
    return out;
}

}  // namespace promptlens

namespace promptlens {

SymmetricEigen psd_eigen_top(const MatrixD& c, size_t k, size_t* iterations) {
    const size_t n = c.rows();
    require(c.cols() == n && k >= 1 && k <= n, "internal: psd_eigen_top({}) of a {}x{} matrix", k,
            n, c.cols());
    if (iterations != nullptr) *iterations = 0;
    const size_t r = std::min(n, k + 10);
    // dsyevr costs ~(4/3)·n³ flops (tridiagonalisation); one iteration ~2·n²·r + O(n·r²).
    const size_t max_iterations = (2 * n) / (3 * r + 6 * r * r / n + 1);
    if (r == n || max_iterations < 8) return symmetric_eigen_top(c, k);

    MatrixD q(n, r), z(n, r), h(r, r), v(n, r);
    Rng rng(0);
    for (size_t i = 0; i < q.size(); ++i) q.data()[i] = rng.normal();
    q = orthonormalize_columns(q);
    for (size_t it = 1; it <= max_iterations; ++it) {
        blas::gemm(Trans::N, Trans::N, 1.0, c.view(), q.view(), 0.0, z.view());  // Z = C·Q
        blas::gemm(Trans::T, Trans::N, 1.0, q.view(), z.view(), 0.0, h.view());  // H = Qᵀ·Z
        for (size_t i = 0; i < r; ++i)
            for (size_t j = i + 1; j < r; ++j) h(i, j) = h(j, i) = 0.5 * (h(i, j) + h(j, i));
        SymmetricEigen ritz = symmetric_eigen_top(h, r);
        blas::gemm(Trans::N, Trans::N, 1.0, q.view(), ritz.vectors.view(), 0.0, v.view());
        MatrixD cv(n, r);  // C·V = Z·W
        blas::gemm(Trans::N, Trans::N, 1.0, z.view(), ritz.vectors.view(), 0.0, cv.view());
        const double scale = std::max(std::fabs(ritz.values[0]), 1e-300);
        bool converged = true;
        for (size_t j = 0; j < k && converged; ++j) {
            double res = 0;
            for (size_t i = 0; i < n; ++i) {
                double e = cv(i, j) - ritz.values[j] * v(i, j);
                res += e * e;
            }
            converged = std::sqrt(res) <= 1e-10 * scale;
        }
        if (converged) {
            if (iterations != nullptr) *iterations = it;
            SymmetricEigen out;
            out.values.assign(ritz.values.begin(), ritz.values.begin() + static_cast<long>(k));
            out.vectors = MatrixD(n, k);
            for (size_t i = 0; i < n; ++i)
                for (size_t j = 0; j < k; ++j) out.vectors(i, j) = v(i, j);
            return out;
        }
        q = orthonormalize_columns(cv);
    }
    return symmetric_eigen_top(c, k);
}

}  // namespace promptlens
