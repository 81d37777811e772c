#include "metrics/silhouette.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "metrics/distances.hpp"

namespace promptlens {
namespace {

constexpr size_t kQueryBlock = 256;
constexpr size_t kDataTile = 2048;

// Labels re-coded 0..C−1 in order of their value (sklearn's LabelEncoder) and cluster sizes.
struct Coded {
    std::vector<int32_t> code;
    std::vector<int64_t> size;
};

Coded encode(std::span<const int32_t> labels, std::span<const size_t> rows) {
    std::vector<int32_t> values;
    values.reserve(rows.size());
    for (size_t r : rows) values.push_back(labels[r]);
    std::vector<int32_t> uniq = values;
    std::sort(uniq.begin(), uniq.end());
    uniq.erase(std::unique(uniq.begin(), uniq.end()), uniq.end());
    Coded c;
    c.size.assign(uniq.size(), 0);
    c.code.resize(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        const auto it = std::lower_bound(uniq.begin(), uniq.end(), values[i]);
        c.code[i] = static_cast<int32_t>(it - uniq.begin());
        ++c.size[static_cast<size_t>(c.code[i])];
    }
    return c;
}

void check_inputs(ConstMatView x, std::span<const int32_t> labels) {
    require(labels.size() == x.rows(), "silhouette: {} labels for {} rows; need one per row",
            labels.size(), x.rows());
    for (size_t i = 0; i < labels.size(); ++i)
        require(labels[i] >= 0, "silhouette: row {} has negative label {}", i, labels[i]);
    require_finite(x, "silhouette");
}

void check_label_count(size_t n_labels, size_t n_rows) {
    require(n_labels >= 2 && n_labels + 1 <= n_rows,
            "silhouette: {} distinct labels among {} rows scored; the score needs 2 <= labels <= "
            "rows - 1",
            n_labels, n_rows);
}

// s for one row from its per-cluster distance sums (sklearn's _silhouette_reduce + nan_to_num).
double row_score(const double* sums, const Coded& c, int32_t own) {
    const size_t own_c = static_cast<size_t>(own);
    const double a_den = static_cast<double>(c.size[own_c] - 1);
    if (a_den == 0) return 0.0;  // singleton cluster: 0/0 in sklearn, turned into 0
    const double a = sums[own_c] / a_den;
    double b = INFINITY;
    for (size_t l = 0; l < c.size.size(); ++l)
        if (l != own_c) b = std::min(b, sums[l] / static_cast<double>(c.size[l]));
    const double den = std::max(a, b);
    if (!(den > 0)) return 0.0;  // a = b = 0 (duplicate points): nan in sklearn, turned into 0
    return (b - a) / den;
}

}  // namespace

SampledScore silhouette_score(ConstMatView x, std::span<const int32_t> labels, size_t max_samples,
                              uint64_t seed, int threads) {
    check_inputs(x, labels);
    const size_t n = x.rows();
    const bool sampled = max_samples > 0 && n > max_samples;
    const std::vector<size_t> rows = sample_rows(n, sampled ? max_samples : n, seed);
    const size_t m = rows.size();
    const Coded coded = encode(labels, rows);
    check_label_count(coded.size.size(), m);
    const size_t n_labels = coded.size.size();

    // The scored rows, contiguous (and centred for the GEMM path, see distances.hpp).
    Matrix xs;
    if (x.cols() > kDirectMaxDims) {
        xs = centered_rows(x, rows);
    } else {
        xs = Matrix(m, x.cols());
        for (size_t i = 0; i < m; ++i)
            std::copy_n(x.row(rows[i]).data(), x.cols(), xs.row(i).data());
    }
    const std::vector<double> norms =
        x.cols() > kDirectMaxDims ? sq_norms(xs) : std::vector<double>{};

    std::vector<double> score(m, 0.0);
    parallel_for(chunk_count(m, kQueryBlock), threads, [&](size_t block) {
        const size_t q0 = block * kQueryBlock, q1 = std::min(m, q0 + kQueryBlock), nq = q1 - q0;
        SqDistanceTiles tiles(xs.row_range(q0, q1),
                              norms.empty() ? std::span<const double>{}
                                            : std::span<const double>(norms).subspan(q0, nq),
                              xs, norms);
        MatrixD sums(nq, n_labels, 0.0);  // Σ distance to each cluster, per query
        MatrixD tile(nq, std::min(m, kDataTile));
        for (size_t t0 = 0; t0 < m; t0 += kDataTile) {
            const size_t t1 = std::min(m, t0 + kDataTile);
            MatrixView<double> out(tile.data(), nq, t1 - t0);
            tiles.tile(t0, t1, out);
            for (size_t i = 0; i < nq; ++i) {
                double* s = sums.row(i).data();
                const double* d2 = out.row(i).data();
                for (size_t j = 0; j < t1 - t0; ++j) {
                    if (t0 + j == q0 + i) continue;  // the diagonal is exactly 0 (as in sklearn)
                    s[coded.code[t0 + j]] += std::sqrt(d2[j]);
                }
            }
        }
        for (size_t i = 0; i < nq; ++i)
            score[q0 + i] = row_score(sums.row(i).data(), coded, coded.code[q0 + i]);
    });
    double total = 0;
    for (double s : score) total += s;
    return {total / static_cast<double>(m), m, sampled};
}

namespace reference {

double silhouette_score(ConstMatView x, std::span<const int32_t> labels) {
    check_inputs(x, labels);
    const size_t n = x.rows();
    std::vector<size_t> rows(n);
    for (size_t i = 0; i < n; ++i) rows[i] = i;
    const Coded coded = encode(labels, rows);
    check_label_count(coded.size.size(), n);
    std::vector<double> sums(coded.size.size());
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
        std::fill(sums.begin(), sums.end(), 0.0);
        for (size_t j = 0; j < n; ++j) {
            if (j == i) continue;
            double s = 0;
            for (size_t c = 0; c < x.cols(); ++c) {
                const double diff = static_cast<double>(x(i, c)) - x(j, c);
                s += diff * diff;
            }
            sums[coded.code[j]] += std::sqrt(s);
        }
        total += row_score(sums.data(), coded, coded.code[i]);
    }
    return total / static_cast<double>(n);
}

}  // namespace reference
}  // namespace promptlens
