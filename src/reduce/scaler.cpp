#include "reduce/scaler.hpp"

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "core/parallel.hpp"

namespace promptlens {
namespace {
constexpr size_t kRowBlock = 1024;
}

StandardScaler StandardScaler::fit(ConstMatView x, int threads) {
    const size_t n = x.rows(), d = x.cols();
    require(n > 0, "StandardScaler: no rows to fit");
    const size_t blocks = chunk_count(n, kRowBlock);
    // Two passes (mean, then centred sum of squares) for accuracy on large offsets.
    std::vector<double> partial(blocks * d, 0.0);
    parallel_for(blocks, threads, [&](size_t b) {
        double* acc = &partial[b * d];
        for (size_t i = b * kRowBlock; i < std::min(n, (b + 1) * kRowBlock); ++i) {
            auto r = x.row(i);
            for (size_t j = 0; j < d; ++j) acc[j] += r[j];
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
            auto r = x.row(i);
            for (size_t j = 0; j < d; ++j) {
                double c = r[j] - s.mean[j];
                acc[j] += c * c;
            }
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

void StandardScaler::transform_inplace(MatView x, int threads) const {
    const size_t n = x.rows(), d = x.cols();
    require(d == mean.size(), "StandardScaler: fitted on {} columns, got {}", mean.size(), d);
    std::vector<float> m(d), inv(d);
    for (size_t j = 0; j < d; ++j) {
        m[j] = static_cast<float>(mean[j]);
        inv[j] = static_cast<float>(1.0 / scale[j]);
    }
    parallel_for(chunk_count(n, kRowBlock), threads, [&](size_t b) {
        for (size_t i = b * kRowBlock; i < std::min(n, (b + 1) * kRowBlock); ++i) {
            auto r = x.row(i);
            for (size_t j = 0; j < d; ++j) r[j] = (r[j] - m[j]) * inv[j];
        }
    });
}

Matrix StandardScaler::transform(ConstMatView x, int threads) const {
    Matrix out = to_matrix(x);
    transform_inplace(out, threads);
    return out;
}

}  // namespace promptlens
