#include "linalg/block_krylov.hpp"

#include <lapacke.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "linalg/gemm.hpp"

namespace promptlens {

BlockKrylovResult block_krylov_top_eigen(size_t n, const GramProduct& product,
                                         const BlockKrylovOptions& options) {
    const size_t k = options.rank;
    require(k >= 1 && k <= n, "internal: block Krylov rank {} in dimension {}", k, n);
    const size_t r = std::min(n, std::max(options.block, k));
    // The Krylov space never exceeds n columns; once it would, it is all of R^n (exact).
    const size_t max_steps = std::max<size_t>(1, std::min(options.max_products, n / r));
    const size_t m_max = max_steps * r;

    MatrixD kb(n, m_max), ck(n, m_max);  // K (float-rounded basis, as used) and C·K
    MatrixD block(n, r);
    Rng rng(options.seed);
    for (size_t i = 0; i < block.size(); ++i) block.data()[i] = rng.normal();
    if (!options.start_row_scale.empty()) {
        require(options.start_row_scale.size() == n, "internal: start_row_scale has {} of {}",
                options.start_row_scale.size(), n);
        for (size_t i = 0; i < n; ++i)
            for (size_t j = 0; j < r; ++j) block(i, j) *= options.start_row_scale[i];
    }
    block = orthonormalize_columns(block);

    BlockKrylovResult out;
    Matrix qf(n, r);
    MatrixD z(n, r);
    // H = KᵀCK and G = KᵀK (m_max×m_max), extended by the new block's rows and columns each step
    // (n·m·r flops per step instead of n·m² for recomputing them: at n = 50,257 and m = 192 the
    // full recomputation would cost more than a pass over X).
    MatrixD hfull(m_max, m_max), gfull(m_max, m_max);
    for (size_t step = 1; step <= max_steps; ++step) {
        const size_t m0 = (step - 1) * r, m = step * r;
        for (size_t i = 0; i < n; ++i)
            for (size_t j = 0; j < r; ++j) {
                qf(i, j) = static_cast<float>(block(i, j));
                kb(i, m0 + j) = qf(i, j);
            }
        product(qf, z);
        ++out.products;
        for (size_t i = 0; i < n; ++i)
            for (size_t j = 0; j < r; ++j) ck(i, m0 + j) = z(i, j);

        // Rayleigh–Ritz on span(K): (KᵀCK)·w = θ·(KᵀK)·w, m×m, in double (dsygv). New columns:
        // a = Kᵀ·(CK)_new, b = (CK)ᵀ·K_new (so b(i, j) = K_newjᵀ·C·K_i), H symmetrised as
        // (a + b)/2; c = Kᵀ·K_new.
        MatrixView<const double> kv(kb.data(), n, m, m_max), ckv(ck.data(), n, m, m_max);
        MatrixView<const double> knew(kb.data() + m0, n, r, m_max),
            cknew(ck.data() + m0, n, r, m_max);
        MatrixD a(m, r), bt(m, r), c(m, r);
        blas::gemm(Trans::T, Trans::N, 1.0, kv, cknew, 0.0, a.view());
        blas::gemm(Trans::T, Trans::N, 1.0, ckv, knew, 0.0, bt.view());
        blas::gemm(Trans::T, Trans::N, 1.0, kv, knew, 0.0, c.view());
        for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < r; ++j) {
                hfull(i, m0 + j) = hfull(m0 + j, i) = 0.5 * (a(i, j) + bt(i, j));
                gfull(i, m0 + j) = gfull(m0 + j, i) = c(i, j);
            }
        MatrixD h(m, m), g(m, m);
        for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < m; ++j) h(i, j) = hfull(i, j), g(i, j) = gfull(i, j);
        std::vector<double> theta(m);
        const auto lm = static_cast<lapack_int>(m);
        lapack_int info = LAPACKE_dsygv(LAPACK_ROW_MAJOR, 1, 'V', 'U', lm, h.data(), lm, g.data(),
                                        lm, theta.data());
        // info > m: KᵀK is not positive definite, i.e. the new block was numerically dependent
        // on K (the space is exhausted in some directions). Report non-convergence with the
        // previous step's pairs; the caller has a fallback.
        if (info > 0 && info > static_cast<lapack_int>(m)) break;
        require(info == 0, "LAPACK dsygv failed (info {}) on a {}x{} Rayleigh-Ritz problem", info,
                m, m);
        // Top k (theta ascending): w_j = column m−1−j of h, KᵀK-normalised so ‖K·w_j‖ = 1.
        MatrixD w(m, k);
        out.values.assign(k, 0.0);
        for (size_t j = 0; j < k; ++j) {
            out.values[j] = theta[m - 1 - j];
            for (size_t i = 0; i < m; ++i) w(i, j) = h(i, m - 1 - j);
        }
        MatrixD v(n, k), cv(n, k);
        blas::gemm(Trans::N, Trans::N, 1.0, kv, w.view(), 0.0, v.view());
        blas::gemm(Trans::N, Trans::N, 1.0, ckv, w.view(), 0.0, cv.view());
        const double scale = std::max(std::fabs(out.values[0]), 1e-300);
        out.residuals.assign(k, 0.0);
        double worst = 0;
        for (size_t j = 0; j < k; ++j) {
            double res = 0;
            for (size_t i = 0; i < n; ++i) {
                const double e = cv(i, j) - out.values[j] * v(i, j);
                res += e * e;
            }
            out.residuals[j] = std::sqrt(res) / scale;
            worst = std::max(worst, out.residuals[j]);
        }
        out.v = std::move(v);
        if (worst <= options.tolerance) {
            out.converged = true;
            return out;
        }
        if (step == max_steps) break;
        // Next block: C·(last block) with K projected out twice (classical Gram–Schmidt,
        // re-orthogonalised), orthonormalised; an (almost) invariant span(K) means the Ritz
        // pairs are exact up to the products' rounding, which the residual already judged.
        MatrixD next = z;
        project_out(kb, m, next);
        project_out(kb, m, next);
        double nnorm = 0;
        for (double x : next.values()) nnorm = std::max(nnorm, std::fabs(x));
        if (nnorm <= 1e-13 * scale) break;
        block = orthonormalize_columns(next);
        project_out(kb, m, block);  // directions QR invented for (near-)zero columns
        block = orthonormalize_columns(block);
    }
    // Not converged (also when K spans all of R^n but the products' rounding keeps the residual
    // above the tolerance): the caller falls back.
    return out;
}

}  // namespace promptlens
