#include "linalg/gemm.hpp"

#include <cblas.h>

#include <mutex>

#include "core/error.hpp"

namespace promptlens {
namespace {

// OpenBLAS runs on the caller's thread only; see the header.
void ensure_single_threaded_blas() {
    static std::once_flag once;
    std::call_once(once, [] { openblas_set_num_threads(1); });
}

CBLAS_TRANSPOSE cblas_trans(Trans t) {
    return t == Trans::N ? CblasNoTrans : CblasTrans;
}

template <class V>
void check_shapes(Trans ta, Trans tb, const V& a, const V& b, size_t c_rows, size_t c_cols,
                  size_t& m, size_t& n, size_t& k) {
    m = ta == Trans::N ? a.rows() : a.cols();
    k = ta == Trans::N ? a.cols() : a.rows();
    size_t kb = tb == Trans::N ? b.rows() : b.cols();
    n = tb == Trans::N ? b.cols() : b.rows();
    require(k == kb && c_rows == m && c_cols == n,
            "internal: gemm shape mismatch ({}x{}) * ({}x{}) -> ({}x{})", m, k, kb, n, c_rows,
            c_cols);
}

}  // namespace

namespace blas {

void gemm(Trans ta, Trans tb, float alpha, ConstMatView a, ConstMatView b, float beta, MatView c) {
    size_t m, n, k;
    check_shapes(ta, tb, a, b, c.rows(), c.cols(), m, n, k);
    if (m == 0 || n == 0) return;
    ensure_single_threaded_blas();
    cblas_sgemm(CblasRowMajor, cblas_trans(ta), cblas_trans(tb), static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(k), alpha, a.data(),
                static_cast<int>(std::max<size_t>(a.stride(), 1)), b.data(),
                static_cast<int>(std::max<size_t>(b.stride(), 1)), beta, c.data(),
                static_cast<int>(std::max<size_t>(c.stride(), 1)));
}

void gemm(Trans ta, Trans tb, double alpha, MatrixView<const double> a, MatrixView<const double> b,
          double beta, MatrixView<double> c) {
    size_t m, n, k;
    check_shapes(ta, tb, a, b, c.rows(), c.cols(), m, n, k);
    if (m == 0 || n == 0) return;
    ensure_single_threaded_blas();
    cblas_dgemm(CblasRowMajor, cblas_trans(ta), cblas_trans(tb), static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(k), alpha, a.data(),
                static_cast<int>(std::max<size_t>(a.stride(), 1)), b.data(),
                static_cast<int>(std::max<size_t>(b.stride(), 1)), beta, c.data(),
                static_cast<int>(std::max<size_t>(c.stride(), 1)));
}

void syrk_t(float alpha, ConstMatView a, float beta, MatView c) {
    const size_t n = a.cols();
    require(c.rows() == n && c.cols() == n, "internal: syrk shape mismatch");
    if (n == 0) return;
    ensure_single_threaded_blas();
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(n),
                static_cast<int>(a.rows()), alpha, a.data(),
                static_cast<int>(std::max<size_t>(a.stride(), 1)), beta, c.data(),
                static_cast<int>(c.stride()));
    for (size_t i = 0; i < n; ++i) {
        for (size_t j = 0; j < i; ++j) c(i, j) = c(j, i);
    }
}

}  // namespace blas

namespace reference {

void gemm(Trans ta, Trans tb, float alpha, ConstMatView a, ConstMatView b, float beta, MatView c) {
    size_t m, n, k;
    check_shapes(ta, tb, a, b, c.rows(), c.cols(), m, n, k);
    for (size_t i = 0; i < m; ++i) {
        for (size_t j = 0; j < n; ++j) {
            double s = 0;
            for (size_t p = 0; p < k; ++p) {
                double av = ta == Trans::N ? a(i, p) : a(p, i);
                double bv = tb == Trans::N ? b(p, j) : b(j, p);
                s += av * bv;
            }
            float prev = beta == 0.0f ? 0.0f : beta * c(i, j);
            c(i, j) = static_cast<float>(alpha * s) + prev;
        }
    }
}

}  // namespace reference

void row_sq_norms(ConstMatView x, std::span<float> out) {
    for (size_t i = 0; i < x.rows(); ++i) {
        double s = 0;
        for (float v : x.row(i)) s += static_cast<double>(v) * v;
        out[i] = static_cast<float>(s);
    }
}

}  // namespace promptlens
