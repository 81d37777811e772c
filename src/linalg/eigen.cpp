#include "linalg/eigen.hpp"

#include <lapacke.h>

#include "core/error.hpp"

namespace promptlens {

SymmetricEigen symmetric_eigen_top(const MatrixD& a, size_t k) {
    const size_t n = a.rows();
    require(a.cols() == n, "internal: eigen of a non-square matrix");
    require(k >= 1 && k <= n, "internal: asked for {} eigenpairs of a {}x{} matrix", k, n, n);
    MatrixD work = a;  // dsyevr destroys its input
    std::vector<double> w(n);
    MatrixD z(n, k);
    std::vector<lapack_int> support(2 * k);
    lapack_int found = 0;
    // Eigenvalues are returned ascending; ask for indices n-k+1 .. n (1-based).
    lapack_int info =
        LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', static_cast<lapack_int>(n), work.data(),
                       static_cast<lapack_int>(n), 0.0, 0.0, static_cast<lapack_int>(n - k + 1),
                       static_cast<lapack_int>(n), 0.0, &found, w.data(), z.data(),
                       static_cast<lapack_int>(k), support.data());
    require(info == 0 && static_cast<size_t>(found) == k,
            "LAPACK dsyevr failed (info {}) on a {}x{} matrix", info, n, n);
    SymmetricEigen out;
    out.values.resize(k);
    out.vectors = MatrixD(n, k);
    for (size_t j = 0; j < k; ++j) {
        out.values[j] = w[k - 1 - j];
        for (size_t i = 0; i < n; ++i) out.vectors(i, j) = z(i, k - 1 - j);
    }
    return out;
}

ThinSvd thin_svd(const MatrixD& a) {
    const size_t m = a.rows(), n = a.cols();
    const size_t r = std::min(m, n);
    MatrixD work = a;
    ThinSvd out{MatrixD(m, r), std::vector<double>(r), MatrixD(r, n)};
    lapack_int info = LAPACKE_dgesdd(
        LAPACK_ROW_MAJOR, 'S', static_cast<lapack_int>(m), static_cast<lapack_int>(n), work.data(),
        static_cast<lapack_int>(n), out.s.data(), out.u.data(), static_cast<lapack_int>(r),
        out.vt.data(), static_cast<lapack_int>(n));
    require(info == 0, "LAPACK dgesdd failed (info {}) on a {}x{} matrix", info, m, n);
    return out;
}

}  // namespace promptlens
