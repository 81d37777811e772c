#include "metrics/trustworthiness.hpp"
#include <atomic>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "metrics/distances.hpp"
#include "metrics/neighbors.hpp"

namespace promptlens {
namespace {

constexpr size_t kQueryBlock = 64;

void check_inputs(ConstMatView high, ConstMatView low, size_t k) {
    const size_t n = high.rows();
    require(low.rows() == n, "trustworthiness: original space has {} rows, embedding {}", n,
            low.rows());
    require(k >= 1, "trustworthiness: k must be at least 1, got 0");
    require(static_cast<double>(k) < static_cast<double>(n) / 2.0,
            "trustworthiness: n_neighbors ({}) should be less than n_samples / 2 ({})", k,
            static_cast<double>(n) / 2.0);
    require_finite(high, "trustworthiness (original space)");
    require_finite(low, "trustworthiness (embedding)");
}

// Exact squared distances of one query to chosen rows, in double from the original values (as
// sklearn's float64 distances), cached for the query. Used only for rows whose float32-GEMM
// bracket overlaps a threshold's, typically a few dozen per query, so the ranks equal those of
// the plain double computation.
struct QueryRanks {
    ConstMatView high;  // original rows, for the exact recomputation
    size_t query;       // row index of the query
    std::vector<double> exact_cache;
    std::vector<size_t> cached;

    double exact(size_t l) {
        if (exact_cache[l] < 0) {
            exact_cache[l] =
                exact_sq_distance(high.row(query).data(), high.row(l).data(), high.cols());
            cached.push_back(l);
        }
        return exact_cache[l];
    }
    void reset() {
        for (size_t l : cached) exact_cache[l] = -1;
        cached.clear();
    }
};

// float brackets [lo, hi] ∋ d² from a double estimate v and its error bound e, rounded outward.
inline void bracket(double v, double e, float& lo, float& hi) {
    lo = static_cast<float>(v - e);
    hi = static_cast<float>(v + e);
    if (static_cast<double>(lo) > v - e) lo = std::nextafter(lo, -INFINITY);
    if (static_cast<double>(hi) < v + e) hi = std::nextafter(hi, INFINITY);
}

constexpr size_t kScanChunk = 256;

// Σ_m max(0, r(i, j_m) − k) for one query; r = 1 + #{l < j : d_l ≤ d_j} + #{l > j : d_l < d_j},
// the 1-based position in a stable sort of the query's distances (self excluded). lo/hi bracket
// each true d²_l (self: +inf). Per threshold a branch-free pass counts the certainly-closer rows;
// chunks that hold a doubtful row (brackets overlapping) are then settled in double.
int64_t penalty(const float* lo, const float* hi, size_t n, std::span<const int32_t> embedded,
                size_t k, QueryRanks& exact) {
    int64_t sum = 0;
    for (int32_t jj : embedded) {
        const size_t j = static_cast<size_t>(jj);
        const float t_lo = lo[j], t_hi = hi[j];
        int64_t rank = 1;
        bool tx_known = false;
        double tx = 0;
        for (size_t c0 = 0; c0 < n; c0 += kScanChunk) {
            const size_t c1 = std::min(n, c0 + kScanChunk);
            int32_t certain = 0, doubtful = 0;
            for (size_t l = c0; l < c1; ++l) {
                certain += hi[l] < t_lo;
                doubtful += (hi[l] >= t_lo) & (lo[l] <= t_hi);
            }
            rank += certain;
            if (doubtful == 0 || (doubtful == 1 && j >= c0 && j < c1)) continue;
            if (!tx_known) {
                tx = exact.exact(j);
                tx_known = true;
            }
            for (size_t l = c0; l < c1; ++l) {
                if (l == j || !(hi[l] >= t_lo && lo[l] <= t_hi)) continue;
                const double dx = exact.exact(l);
                rank += l < j ? dx <= tx : dx < tx;
            }
        }
        if (rank > static_cast<int64_t>(k)) sum += rank - static_cast<int64_t>(k);
    }
    return sum;
}

double finish(int64_t penalty_sum, size_t queries, size_t n, size_t k) {
    const double nd = static_cast<double>(n), kd = static_cast<double>(k);
    return 1.0 - static_cast<double>(penalty_sum) *
                     (2.0 / (static_cast<double>(queries) * kd * (2.0 * nd - 3.0 * kd - 1.0)));
}

}  // namespace

SampledScore trustworthiness(ConstMatView high, ConstMatView low, size_t k, size_t max_samples,
                             uint64_t seed, int threads, const ProgressCallback& progress) {
    check_inputs(high, low, k);
    const size_t n = high.rows();
    const bool sampled = max_samples > 0 && n > max_samples;
    const std::vector<size_t> queries = sample_rows(n, sampled ? max_samples : n, seed);
    const size_t m = queries.size();

    // Embedded neighbours of each query among all N rows (itself excluded).
    Matrix low_q(m, low.cols());
    std::vector<int64_t> self(m);
    for (size_t i = 0; i < m; ++i) {
        std::copy_n(low.row(queries[i]).data(), low.cols(), low_q.row(i).data());
        self[i] = static_cast<int64_t>(queries[i]);
    }
    const Neighbors embedded = ExactNeighbors(low).search(low_q, k, self, threads);

    // Original space: centred copy for the GEMM path (distances unchanged, less cancellation).
    Matrix high_c;
    ConstMatView hv = high;
    std::vector<double> norms, norm_roots;
    if (high.cols() > kDirectMaxDims) {
        high_c = centered_rows(high);
        hv = high_c;
        norms = sq_norms(hv);
        for (double v : norms) norm_roots.push_back(std::sqrt(v));
    }
    Matrix high_q(m, high.cols());
    std::vector<double> qnorms(norms.empty() ? 0 : m);
    for (size_t i = 0; i < m; ++i) {
        std::copy_n(hv.row(queries[i]).data(), hv.cols(), high_q.row(i).data());
        if (!norms.empty()) qnorms[i] = norms[queries[i]];
    }

    const size_t n_blocks = chunk_count(m, kQueryBlock);
    std::vector<int64_t> block_penalty(n_blocks, 0);
    std::atomic<size_t> queries_done{0};
    parallel_for(n_blocks, threads, [&](size_t block) {
        const size_t q0 = block * kQueryBlock, q1 = std::min(m, q0 + kQueryBlock), nq = q1 - q0;
        SqDistanceTiles tiles(high_q.row_range(q0, q1),
                              qnorms.empty() ? std::span<const double>{}
                                             : std::span<const double>(qnorms).subspan(q0, nq),
                              hv, norms);
        MatrixD rows(nq, n);
        tiles.tile(0, n, rows);
        // Error bound of each GEMM value against the double d² of the original rows, for
        // S = ‖q̃‖ + ‖x̃_l‖ of the centred rows: centring rounds each coordinate (|Δd²| ≤ 2u·S²)
        // and the float32 dot product is within γ_D·‖q̃‖‖x̃‖ ≤ D·u·S²/4 (doubled: ≤ D·u·S²/2),
        // so (D + 8)·u·S² holds with a factor-2 margin. The direct path (double sums) gets 2⁻⁴⁰·d².
        std::vector<float> lo(n), hi(n);
        QueryRanks ranks{high, 0, std::vector<double>(n, -1.0), {}};
        const double c = static_cast<double>(hv.cols() + 8) * 0x1.0p-24;
        int64_t sum = 0;
        for (size_t i = 0; i < nq; ++i) {
            const double* row = rows.row(i).data();
            const size_t qi = queries[q0 + i];
            if (norms.empty()) {
                // Direct path: double sums, within a few ulps of exact_sq_distance's order.
                for (size_t l = 0; l < n; ++l) bracket(row[l], row[l] * 0x1.0p-40, lo[l], hi[l]);
            } else {
                const double qn = std::sqrt(qnorms[q0 + i]);
                for (size_t l = 0; l < n; ++l) {
                    const double s = qn + norm_roots[l];
                    bracket(row[l], c * s * s, lo[l], hi[l]);
                }
            }
            lo[qi] = hi[qi] = INFINITY;  // sklearn fills the diagonal with inf
            ranks.query = qi;
            sum += penalty(lo.data(), hi.data(), n, embedded.of(q0 + i), k, ranks);
            ranks.reset();
        }
        block_penalty[block] = sum;
        if (progress) progress(queries_done.fetch_add(nq) + nq, m);
    });
    int64_t total = 0;
    for (int64_t p : block_penalty) total += p;
    return {finish(total, m, n, k), m, sampled};
}

namespace reference {

double trustworthiness(ConstMatView high, ConstMatView low, size_t k) {
    check_inputs(high, low, k);
    const size_t n = high.rows();
    std::vector<int64_t> self(n);
    std::iota(self.begin(), self.end(), int64_t{0});
    const Neighbors embedded = reference::knn(low, low, k, self);
    MatrixD d(n, n);
    reference_sq_distances(high, high, d);
    int64_t total = 0;
    std::vector<size_t> order(n), rank(n);
    for (size_t i = 0; i < n; ++i) {
        d(i, i) = INFINITY;
        std::iota(order.begin(), order.end(), size_t{0});
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return d(i, a) < d(i, b); });
        for (size_t p = 0; p < n; ++p) rank[order[p]] = p + 1;
        for (int32_t j : embedded.of(i)) {
            const auto r = static_cast<int64_t>(rank[static_cast<size_t>(j)]);
            if (r > static_cast<int64_t>(k)) total += r - static_cast<int64_t>(k);
        }
    }
    return finish(total, n, n, k);
}

}  // namespace reference
}  // namespace promptlens
