// Greedy k-means++ seeding, as scikit-learn's `_kmeans_plusplus`: the first centre is a uniform
// row; each next one is the best of 2 + floor(ln k) rows drawn with probability proportional to
// the squared distance to the nearest centre so far, "best" meaning the lowest potential (sum of
// those distances) once added. All restarts' candidates share one GEMM pass over the rows per
// step; squared distances are ‖x‖² + ‖c‖² − 2x·c (double norms, float32 dot), clamped at 0, and
// exactly 0 for the candidate row itself.
#include <algorithm>
#include <cmath>

#include "cluster/kmeans.hpp"
#include "cluster/kmeans_detail.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "linalg/gemm.hpp"

namespace promptlens {
namespace kmeans_detail {
namespace {

// For each candidate q (row ids[q] of x): out[q][i] = min(base[q][i], ‖x_i − x_{ids[q]}‖²)
// (base[q] may be null: no minimum) and pot[q] = Σ_i out[q][i], summed in chunk order.
void candidate_pass(ConstMatView x, std::span<const double> x_norms, std::span<const size_t> ids,
                    std::span<const double* const> base, std::vector<std::vector<double>>& out,
                    std::vector<double>& pot, int threads) {
    const size_t n = x.rows(), d = x.cols(), q_count = ids.size();
    Matrix cand(q_count, d);
    for (size_t q = 0; q < q_count; ++q) std::ranges::copy(x.row(ids[q]), cand.row(q).begin());
    out.assign(q_count, std::vector<double>(n));
    const size_t crows = chunk_rows(n, q_count);
    const size_t n_chunks = chunk_count(n, crows);
    std::vector<double> part(n_chunks * q_count, 0.0);
    parallel_for(n_chunks, threads, [&](size_t c) {
        Matrix dot(kBlockRows, q_count);
        double* ppot = part.data() + c * q_count;
        const size_t end = std::min(n, (c + 1) * crows);
        for (size_t b0 = c * crows; b0 < end; b0 += kBlockRows) {
            const size_t b1 = std::min(end, b0 + kBlockRows), bn = b1 - b0;
            MatView dv(dot.data(), bn, q_count);
            blas::gemm(Trans::N, Trans::T, 1.0f, x.row_range(b0, b1), cand.view(), 0.0f, dv);
            for (size_t q = 0; q < q_count; ++q) {
                const double cn = x_norms[ids[q]];
                double* o = out[q].data();
                for (size_t i = 0; i < bn; ++i) {
                    const size_t row = b0 + i;
                    double dist =
                        std::max(0.0, x_norms[row] + cn - 2.0 * static_cast<double>(dv(i, q)));
                    if (row == ids[q]) dist = 0.0;
                    if (base[q] != nullptr) dist = std::min(dist, base[q][row]);
                    o[row] = dist;
                    ppot[q] += dist;
                }
            }
        }
    });
    pot.assign(q_count, 0.0);
    for (size_t c = 0; c < n_chunks; ++c)
        for (size_t q = 0; q < q_count; ++q) pot[q] += part[c * q_count + q];
}

}  // namespace

std::vector<Matrix> kmeans_plusplus_batch(ConstMatView x, std::span<const double> x_norms, size_t k,
                                          std::span<Rng> rngs, int threads) {
    const size_t n = x.rows(), d = x.cols(), n_runs = rngs.size();
    const size_t trials = 2 + static_cast<size_t>(std::log(static_cast<double>(k)));
    std::vector<Matrix> centers(n_runs, Matrix(k, d));
    std::vector<size_t> ids(n_runs);
    for (size_t r = 0; r < n_runs; ++r) {
        ids[r] = rngs[r].below(n);
        std::ranges::copy(x.row(ids[r]), centers[r].row(0).begin());
    }
    std::vector<const double*> base(n_runs, nullptr);
    std::vector<std::vector<double>> closest;  // n_runs × N: squared distance to nearest centre
    std::vector<double> pot;
    candidate_pass(x, x_norms, ids, base, closest, pot, threads);

    std::vector<double> cumsum(n);
    for (size_t c = 1; c < k; ++c) {
        ids.assign(n_runs * trials, 0);
        base.assign(n_runs * trials, nullptr);
        for (size_t r = 0; r < n_runs; ++r) {
            double acc = 0;
            for (size_t i = 0; i < n; ++i) cumsum[i] = (acc += closest[r][i]);
            for (size_t t = 0; t < trials; ++t) {
                const double target = rngs[r].uniform() * pot[r];
                // numpy.searchsorted (side='left'), clipped to the last row.
                auto it = std::lower_bound(cumsum.begin(), cumsum.end(), target);
                ids[r * trials + t] =
                    std::min<size_t>(static_cast<size_t>(it - cumsum.begin()), n - 1);
                base[r * trials + t] = closest[r].data();
            }
        }
        std::vector<std::vector<double>> cand_dist;
        std::vector<double> cand_pot;
        candidate_pass(x, x_norms, ids, base, cand_dist, cand_pot, threads);
        for (size_t r = 0; r < n_runs; ++r) {
            size_t best = r * trials;
            for (size_t t = 1; t < trials; ++t)
                if (cand_pot[r * trials + t] < cand_pot[best]) best = r * trials + t;
            pot[r] = cand_pot[best];
            closest[r] = std::move(cand_dist[best]);
            std::ranges::copy(x.row(ids[best]), centers[r].row(c).begin());
        }
    }
    return centers;
}

}  // namespace kmeans_detail

Matrix kmeans_plusplus(ConstMatView x, size_t k, Rng& rng, int threads) {
    require(k >= 1, "kmeans_plusplus: need at least 1 cluster, got {}", k);
    require(x.rows() >= k,
            "kmeans_plusplus: {} rows but {} clusters requested; need at least as many rows as "
            "clusters",
            x.rows(), k);
    require(x.cols() >= 1, "kmeans_plusplus: x has no columns ({} rows × 0)", x.rows());
    std::vector<double> norms = kmeans_detail::row_norms_d(x, threads);
    auto centers = kmeans_detail::kmeans_plusplus_batch(x, norms, k, std::span(&rng, 1), threads);
    return std::move(centers[0]);
}

}  // namespace promptlens
