// Dense symmetric eigen-decomposition and thin SVD of small double matrices, via LAPACK.
// Used on d×d covariances (exact PCA) and on the small projected problems of randomized SVD.
#pragma once

#include <vector>

#include "core/matrix.hpp"

namespace promptlens {

struct SymmetricEigen {
    std::vector<double> values;  // the k largest eigenvalues, descending
    MatrixD vectors;             // n×k, column j is the eigenvector of values[j]
};

// The k largest eigenpairs of the symmetric n×n matrix `a` (only its upper triangle is read).
SymmetricEigen symmetric_eigen_top(const MatrixD& a, size_t k);

struct ThinSvd {
    MatrixD u;              // m×r
    std::vector<double> s;  // r singular values, descending
    MatrixD vt;             // r×n
};

// a = u · diag(s) · vt with r = min(m, n) (LAPACK gesdd).
ThinSvd thin_svd(const MatrixD& a);

}  // namespace promptlens
