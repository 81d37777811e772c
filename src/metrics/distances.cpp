#include "metrics/distances.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "linalg/gemm.hpp"

namespace promptlens {
namespace {

// out(i, j) = Σ_c (q_ic − x_(begin+j)c)² in double; D > 0 fixes the width at compile time, D = 0
// reads it from the view. Same operation order for every D, so the values do not depend on it.
template <size_t D>
void direct_tile(ConstMatView q, ConstMatView data, size_t begin, size_t end,
                 MatrixView<double> out) {
    const size_t d = D > 0 ? D : q.cols(), nt = end - begin;
    for (size_t i = 0; i < q.rows(); ++i) {
        const float* qi = q.row(i).data();
        double* o = out.row(i).data();
        for (size_t j = 0; j < nt; ++j) {
            const float* xj = data.row(begin + j).data();
            double s = 0;
            for (size_t c = 0; c < d; ++c) {
                const double diff = static_cast<double>(qi[c]) - xj[c];
                s += diff * diff;
            }
            o[j] = s;
        }
    }
}

}  // namespace

std::vector<double> sq_norms(ConstMatView x) {
    std::vector<double> out(x.rows());
    for (size_t i = 0; i < x.rows(); ++i) {
        double s = 0;
        for (float v : x.row(i)) s += static_cast<double>(v) * v;
        out[i] = s;
    }
    return out;
}

SqDistanceTiles::SqDistanceTiles(ConstMatView queries, std::span<const double> q_norms,
                                 ConstMatView data, std::span<const double> data_norms)
    : q_(queries), data_(data), qn_(q_norms), dn_(data_norms) {
    require(queries.cols() == data.cols(), "distances: queries have {} columns, data {}",
            queries.cols(), data.cols());
    if (data.cols() > kDirectMaxDims) {
        require(q_norms.size() == queries.rows() && data_norms.size() == data.rows(),
                "internal: distances need the squared norms of {} queries and {} data rows",
                queries.rows(), data.rows());
    }
}

void SqDistanceTiles::tile(size_t begin, size_t end, MatrixView<double> out) {
    const size_t nq = q_.rows(), nt = end - begin, d = q_.cols();
    require(begin <= end && end <= data_.rows() && out.rows() == nq && out.cols() == nt,
            "internal: distance tile [{}, {}) of {} rows into {}x{}", begin, end, data_.rows(),
            out.rows(), out.cols());
    if (d <= kDirectMaxDims) {
        switch (d) {  // fixed-width loops for the common embedding sizes (vectorisable)
            case 1:
                direct_tile<1>(q_, data_, begin, end, out);
                break;
            case 2:
                direct_tile<2>(q_, data_, begin, end, out);
                break;
            case 3:
                direct_tile<3>(q_, data_, begin, end, out);
                break;
            default:
                direct_tile<0>(q_, data_, begin, end, out);
                break;
        }
        return;
    }
    scratch_.resize(nq * nt);
    MatView g(scratch_.data(), nq, nt);
    blas::gemm(Trans::N, Trans::T, 1.0f, q_, data_.row_range(begin, end), 0.0f, g);
    for (size_t i = 0; i < nq; ++i) {
        const float* gi = g.row(i).data();
        double* o = out.row(i).data();
        const double qi = qn_[i];
        for (size_t j = 0; j < nt; ++j) {
            const double v = qi + dn_[begin + j] - 2.0 * static_cast<double>(gi[j]);
            o[j] = v > 0 ? v : 0.0;
        }
    }
}

// Eight lanes (coordinate c into lane c mod 8) added in one fixed tree; this file is compiled
// with -ffp-contract=off, so every clone gives the default clone's bits.
__attribute__((target_clones("avx512f", "avx2", "default"))) double exact_sq_distance(
    const float* a, const float* b, size_t d) {
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t c = 0;
    for (; c + 8 <= d; c += 8) {
        for (size_t u = 0; u < 8; ++u) {
            const double diff = static_cast<double>(a[c + u]) - static_cast<double>(b[c + u]);
            s[u] += diff * diff;
        }
    }
    for (; c < d; ++c) {
        const double diff = static_cast<double>(a[c]) - static_cast<double>(b[c]);
        s[c % 8] += diff * diff;
    }
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

void reference_sq_distances(ConstMatView queries, ConstMatView data, MatrixView<double> out) {
    for (size_t i = 0; i < queries.rows(); ++i)
        for (size_t j = 0; j < data.rows(); ++j)
            out(i, j) = exact_sq_distance(queries.row(i).data(), data.row(j).data(), data.cols());
}

Matrix centered_rows(ConstMatView x, std::span<const size_t> rows) {
    const size_t n = rows.empty() ? x.rows() : rows.size(), d = x.cols();
    auto src = [&](size_t i) { return x.row(rows.empty() ? i : rows[i]); };
    std::vector<double> mean(d, 0.0);
    for (size_t i = 0; i < n; ++i) {
        auto r = src(i);
        for (size_t c = 0; c < d; ++c) mean[c] += r[c];
    }
    if (n > 0)
        for (double& m : mean) m /= static_cast<double>(n);
    Matrix out(n, d);
    for (size_t i = 0; i < n; ++i) {
        auto r = src(i);
        auto o = out.row(i);
        for (size_t c = 0; c < d; ++c) o[c] = static_cast<float>(r[c] - mean[c]);
    }
    return out;
}

void require_finite(ConstMatView x, const char* what) {
    for (size_t i = 0; i < x.rows(); ++i) {
        auto r = x.row(i);
        for (size_t c = 0; c < r.size(); ++c) {
            require(std::isfinite(r[c]), "{}: value at row {}, column {} is {} (not finite)", what,
                    i, c, r[c]);
        }
    }
}

std::vector<size_t> sample_rows(size_t n, size_t m, uint64_t seed) {
    std::vector<size_t> idx(n);
    std::iota(idx.begin(), idx.end(), size_t{0});
    if (m >= n) return idx;
    Rng rng(seed);
    for (size_t i = 0; i < m; ++i) {
        const size_t j = i + static_cast<size_t>(rng.below(n - i));
        std::swap(idx[i], idx[j]);
    }
    idx.resize(m);
    std::sort(idx.begin(), idx.end());
    return idx;
}

}  // namespace promptlens
