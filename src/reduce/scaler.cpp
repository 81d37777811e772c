#include "reduce/scaler.hpp"

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "core/parallel.hpp"

namespace promptlens {
namespace {
constexpr size_t kRowBlock = 1024;

// Row kernels, compiled for AVX2 and for baseline x86-64 and picked at load time (the binary
// stays generic). Each column accumulates its rows in order, so every version gives the same bits.
#define PROMPTLENS_CLONES __attribute__((target_clones("avx2", "default")))

PROMPTLENS_CLONES void add_row(const float* r, double* acc, size_t d) {
    for (size_t j = 0; j < d; ++j) acc[j] += r[j];
}

PROMPTLENS_CLONES void add_squared_deviation(const float* r, const double* mean, double* acc,
                                             size_t d) {
    for (size_t j = 0; j < d; ++j) {
        const double c = r[j] - mean[j];
        acc[j] += c * c;
    }
}

// out may alias r.
PROMPTLENS_CLONES void scale_row(const float* r, const float* mean, const float* inv, float* out,
                                 size_t d) {
    for (size_t j = 0; j < d; ++j) out[j] = (r[j] - mean[j]) * inv[j];
}

}  // namespace

StandardScaler StandardScaler::fit(ConstMatView x, int threads) {
    const size_t n = x.rows(), d = x.cols();
    require(n > 0, "StandardScaler: no rows to fit");
    const size_t blocks = chunk_count(n, kRowBlock);
    // Two passes (mean, then centred sum of squares) for accuracy on large offsets.
    std::vector<double> partial(blocks * d, 0.0);
    parallel_for(blocks, threads, [&](size_t b) {
        double* acc = &partial[b * d];
        for (size_t i = b * kRowBlock; i < std::min(n, (b + 1) * kRowBlock); ++i) {
            add_row(x.row(i).data(), acc, d);
        }
    });
    StandardScaler s;
    s.mean.assign(d, 0.0);
    for (size_t b = 0; b < blocks; ++b)
        for (size_t j = 0; j < d; ++j) s.mean[j] += partial[b * d + j];
    for (double& m : s.mean) m /= static_cast<double>(n);

    std::fill(partial.begin(), partial.end(), 0.0);
    parallel_for(blocks, threads, [&](size_t b) {
        double* acc = &partial[b * d];
        for (size_t i = b * kRowBlock; i < std::min(n, (b + 1) * kRowBlock); ++i) {
            add_squared_deviation(x.row(i).data(), s.mean.data(), acc, d);
        }
    });
    s.scale.assign(d, 0.0);
    for (size_t b = 0; b < blocks; ++b)
        for (size_t j = 0; j < d; ++j) s.scale[j] += partial[b * d + j];
    for (size_t j = 0; j < d; ++j) {
        double var = s.scale[j] / static_cast<double>(n);
        // scikit-learn's _is_constant_feature: a variance within the error bound of the
        // two-pass algorithm (Chan, Golub & LeVeque) is that of a constant column.
        const double eps = std::numeric_limits<double>::epsilon();
        const double nd = static_cast<double>(n);
        const double bound = nd * eps * var + (nd * s.mean[j] * eps) * (nd * s.mean[j] * eps);
        s.scale[j] = var <= bound ? 1.0 : std::sqrt(var);
    }
    return s;
}

namespace {

// out = (x - mean) / scale row by row; out may be x itself.
void scale_rows(const StandardScaler& s, ConstMatView x, MatView out, int threads) {
    const size_t n = x.rows(), d = x.cols();
    require(d == s.mean.size(), "StandardScaler: fitted on {} columns, got {}", s.mean.size(), d);
    std::vector<float> m(d), inv(d);
    for (size_t j = 0; j < d; ++j) {
        m[j] = static_cast<float>(s.mean[j]);
        inv[j] = static_cast<float>(1.0 / s.scale[j]);
    }
    parallel_for(chunk_count(n, kRowBlock), threads, [&](size_t b) {
        for (size_t i = b * kRowBlock; i < std::min(n, (b + 1) * kRowBlock); ++i) {
            scale_row(x.row(i).data(), m.data(), inv.data(), out.row(i).data(), d);
        }
    });
}

}  // namespace

void StandardScaler::transform_inplace(MatView x, int threads) const {
    scale_rows(*this, x, x, threads);
}

Matrix StandardScaler::transform(ConstMatView x, int threads) const {
    Matrix out(x.rows(), x.cols());
    scale_rows(*this, x, out, threads);
    return out;
}

}  // namespace promptlens
