// Matrix products on row-major float32 views. `blas::` calls OpenBLAS (single-threaded: the
// callers parallelise over fixed row blocks so results do not depend on the thread count);
// `reference::` is the plain triple loop (double accumulation) that tests compare it against.
#pragma once

#include "core/matrix.hpp"

namespace promptlens {

enum class Trans { N, T };

namespace blas {
// C = alpha * op(A) · op(B) + beta * C, all row-major.
void gemm(Trans ta, Trans tb, float alpha, ConstMatView a, ConstMatView b, float beta, MatView c);
void gemm(Trans ta, Trans tb, double alpha, MatrixView<const double> a, MatrixView<const double> b,
          double beta, MatrixView<double> c);
// C (n×n) = alpha * Aᵀ·A + beta * C for A (k×n); fills both triangles.
void syrk_t(float alpha, ConstMatView a, float beta, MatView c);
}  // namespace blas

namespace reference {
void gemm(Trans ta, Trans tb, float alpha, ConstMatView a, ConstMatView b, float beta, MatView c);
}  // namespace reference

// Row-wise squared Euclidean norms: out[i] = Σ_j x(i,j)² (double accumulation).
void row_sq_norms(ConstMatView x, std::span<float> out);

}  // namespace promptlens
