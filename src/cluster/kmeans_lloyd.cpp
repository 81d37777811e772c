// Lloyd iterations for many restarts at once. One pass over the rows, in fixed blocks of
// kBlockRows, computes x·c for the centres of every live restart with one float32 GEMM, picks
// each restart's nearest centre (‖c‖² − 2x·c, first minimum, as scikit-learn's
// `lloyd_iter_chunked_dense`), and adds the rows into per-chunk double sums: by a one-hot GEMM
// for small k, row by row otherwise. Chunks are combined in order, so results do not depend on
// the thread count. Restarts leave the batch as they converge.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "cluster/kmeans_detail.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "linalg/gemm.hpp"

namespace promptlens::kmeans_detail {
namespace {

// Up to this k the centre sums use a one-hot GEMM (BLAS speed, k× redundant flops); above it,
// direct row additions (no redundancy, compiler-vectorised speed).
constexpr size_t kGemmSumMaxK = 4;

// Columns per tile of the direct centre sums: one row slice (64 floats, four AVX-512 registers)
// is added into every member's tile, which stays in L1 (acc_cols × 64 floats).
constexpr size_t kSumTile = 64;

// First index of the smallest cm[j] − 2·dm[j·stride] over j < k (scikit-learn's strict `<`).
inline int32_t nearest(const float* cm, const float* dm, size_t k, size_t stride) {
    float best = cm[0] - 2.0f * dm[0];
    int32_t label = 0;
    for (size_t j = 1; j < k; ++j) {
        const float v = cm[j] - 2.0f * dm[j * stride];
        if (v < best) {
            best = v;
            label = static_cast<int32_t>(j);
        }
    }
    return label;
}

// psum[col·d + f] += Σ (float, row order, from 0) of xb(i, f) over the rows i with
// dest[i·members + m] == col for some m (−1: not accumulated). xb is bn×d, psum acc_cols×d.
// Each element is summed on its own in row order, so the result does not depend on the vector
// width: the AVX-512, AVX2 and SSE2 clones give the same bits (the build stays generic x86-64;
// the loader picks the clone for the CPU).
__attribute__((target_clones("avx512f", "avx2", "default"))) void block_sums_kernel(
    const float* xb, size_t stride, size_t bn, size_t d, const int32_t* dest, size_t n_members,
    size_t acc_cols, float* __restrict tile, double* __restrict psum) {
    for (size_t f0 = 0; f0 < d; f0 += kSumTile) {
        const size_t w = std::min(kSumTile, d - f0);
        std::fill(tile, tile + acc_cols * kSumTile, 0.0f);
        for (size_t i = 0; i < bn; ++i) {
            const float* __restrict xr = xb + i * stride + f0;
            const int32_t* di = dest + i * n_members;
            for (size_t m = 0; m < n_members; ++m) {
                if (di[m] < 0) continue;
                float* __restrict t = tile + static_cast<size_t>(di[m]) * kSumTile;
                if (w == kSumTile) {
                    for (size_t l = 0; l < kSumTile; ++l) t[l] += xr[l];
                } else {
                    for (size_t l = 0; l < w; ++l) t[l] += xr[l];
                }
            }
        }
        for (size_t col = 0; col < acc_cols; ++col) {
            const float* t = tile + col * kSumTile;
            double* p = psum + col * d + f0;
            for (size_t l = 0; l < w; ++l) p[l] += static_cast<double>(t[l]);
        }
    }
}

void block_sums_direct(ConstMatView xb, const int32_t* dest, size_t n_members, size_t acc_cols,
                       float* tile, double* psum) {
    block_sums_kernel(xb.data(), xb.stride(), xb.rows(), xb.cols(), dest, n_members, acc_cols, tile,
                      psum);
}

struct Member {
    int32_t* labels;  // N; written when `assign`, read otherwise
    bool assign;      // recompute labels from the member's centres
    bool accumulate;  // add rows into the member's centre sums
};

struct PassResult {
    MatrixD sums;                // (accumulating members·k)×d, in member order
    std::vector<double> counts;  // accumulating members·k
    std::vector<double> score;   // per member: Σ_i ‖x_i − c_{label_i}‖² by the GEMM formula
};

// x is N×d, x_norms N, stacked is (members·k)×d: member m owns rows [m·k, (m+1)·k).
PassResult lloyd_pass(ConstMatView x, std::span<const double> x_norms, ConstMatView stacked,
                      size_t k, std::span<const Member> members, int threads) {
    const size_t n = x.rows(), d = x.cols(), n_members = members.size();
    const size_t cols = n_members * k;
    constexpr size_t kNone = std::numeric_limits<size_t>::max();
    std::vector<size_t> acc_col(n_members, kNone);
    size_t acc_cols = 0;
    for (size_t m = 0; m < n_members; ++m) {
        if (members[m].accumulate) {
            acc_col[m] = acc_cols;
            acc_cols += k;
        }
    }
    std::vector<double> cn_d(cols);
    std::vector<float> cn_f(cols);
    for (size_t j = 0; j < cols; ++j) {
        double s = 0;
        for (float v : stacked.row(j)) s += static_cast<double>(v) * v;
        cn_d[j] = s;
        cn_f[j] = static_cast<float>(s);
    }
    const bool gemm_sums = k <= kGemmSumMaxK;
    const size_t per_chunk = acc_cols * d + acc_cols + n_members;
    const size_t crows = chunk_rows(n, per_chunk);
    const size_t n_chunks = chunk_count(n, crows);
    std::vector<double> part(n_chunks * per_chunk, 0.0);

    parallel_for(n_chunks, threads, [&](size_t c) {
        double* psum = part.data() + c * per_chunk;  // acc_cols×d
        double* pcount = psum + acc_cols * d;        // acc_cols
        double* pscore = pcount + acc_cols;          // n_members
        Matrix dot(cols, kBlockRows);                // x·c of one block, transposed
        Matrix onehot(gemm_sums ? kBlockRows : 0, acc_cols);
        Matrix block_sum(gemm_sums ? acc_cols : 0, d);  // float sums of one block's rows
        std::vector<int32_t> dest(gemm_sums ? 0 : kBlockRows * n_members);  // bn×members
        std::vector<float> tile(gemm_sums ? 0 : acc_cols * kSumTile);
        const size_t end = std::min(n, (c + 1) * crows);
        for (size_t b0 = c * crows; b0 < end; b0 += kBlockRows) {
            const size_t b1 = std::min(end, b0 + kBlockRows), bn = b1 - b0;
            ConstMatView xb = x.row_range(b0, b1);
            // cols×bn = C·xbᵀ (the same products as xb·Cᵀ; measured a few % faster).
            MatView dv(dot.data(), cols, bn);
            blas::gemm(Trans::N, Trans::T, 1.0f, stacked, xb, 0.0f, dv);
            if (gemm_sums) std::fill(onehot.data(), onehot.data() + bn * acc_cols, 0.0f);
            for (size_t i = 0; i < bn; ++i) {
                const float* drow = dot.data() + i;
                for (size_t m = 0; m < n_members; ++m) {
                    const float* dm = drow + m * k * bn;
                    const float* cm = cn_f.data() + m * k;
                    int32_t label;
                    if (members[m].assign) {
                        label = nearest(cm, dm, k, bn);
                        members[m].labels[b0 + i] = label;
                    } else {
                        label = members[m].labels[b0 + i];
                    }
                    const auto l = static_cast<size_t>(label);
                    pscore[m] += std::max(0.0, x_norms[b0 + i] + cn_d[m * k + l] -
                                                   2.0 * static_cast<double>(dm[l * bn]));
                    if (acc_col[m] == kNone) {
                        if (!gemm_sums) dest[i * n_members + m] = -1;
                        continue;
                    }
                    const size_t col = acc_col[m] + l;
                    pcount[col] += 1;
                    if (gemm_sums)
                        onehot(i, col) = 1.0f;
                    else
                        dest[i * n_members + m] = static_cast<int32_t>(col);
                }
            }
            if (acc_cols == 0) continue;
            if (gemm_sums) {
                // block_sum (acc_cols×d) = onehotᵀ · xb: float sums of at most kBlockRows rows.
                blas::gemm(Trans::T, Trans::N, 1.0f, ConstMatView(onehot.data(), bn, acc_cols), xb,
                           0.0f, block_sum.view());
                const float* bs = block_sum.data();
                for (size_t q = 0; q < acc_cols * d; ++q) psum[q] += bs[q];
            } else {
                block_sums_direct(xb, dest.data(), n_members, acc_cols, tile.data(), psum);
            }
        }
    });

    PassResult out;
    out.sums = MatrixD(acc_cols, d);
    out.counts.assign(acc_cols, 0.0);
    out.score.assign(n_members, 0.0);
    for (size_t c = 0; c < n_chunks; ++c) {
        const double* p = part.data() + c * per_chunk;
        double* s = out.sums.data();
        for (size_t q = 0; q < acc_cols * d; ++q) s[q] += p[q];
        for (size_t q = 0; q < acc_cols; ++q) out.counts[q] += p[acc_cols * d + q];
        for (size_t m = 0; m < n_members; ++m) out.score[m] += p[acc_cols * d + acc_cols + m];
    }
    return out;
}

// Rows [j·k, (j+1)·k) of the result are centres[live[j]].
Matrix stack_centers(const std::vector<Run>& runs, std::span<const size_t> live, size_t k,
                     size_t d) {
    Matrix stacked(live.size() * k, d);
    for (size_t j = 0; j < live.size(); ++j) {
        std::copy(runs[live[j]].centers.values().begin(), runs[live[j]].centers.values().end(),
                  stacked.data() + j * k * d);
    }
    return stacked;
}

}  // namespace

std::vector<Run> lloyd_batch(ConstMatView x, std::span<const double> x_norms,
                             const std::vector<Matrix>& initial, size_t max_iter, double tol,
                             int threads, const ProgressCallback& progress) {
    const size_t n = x.rows(), d = x.cols(), n_runs = initial.size();
    require(n_runs > 0, "internal: lloyd_batch without restarts");
    const size_t k = initial[0].rows();
    std::vector<Run> runs(n_runs);
    std::vector<std::vector<int32_t>> labels_old(n_runs, std::vector<int32_t>(n, -1));
    std::vector<bool> done(n_runs, false);
    for (size_t r = 0; r < n_runs; ++r) {
        runs[r].centers = initial[r];
        runs[r].labels.assign(n, 0);
    }
    for (size_t pass_no = 1;; ++pass_no) {
        std::vector<size_t> live;
        for (size_t r = 0; r < n_runs; ++r)
            if (!done[r]) live.push_back(r);
        if (live.empty()) break;
        Matrix stacked = stack_centers(runs, live, k, d);
        std::vector<Member> members;
        for (size_t r : live) members.push_back({runs[r].labels.data(), true, true});
        PassResult pass = lloyd_pass(x, x_norms, stacked.view(), k, members, threads);
        for (size_t j = 0; j < live.size(); ++j) {
            Run& run = runs[live[j]];
            MatrixD sums(k, d);
            std::copy(pass.sums.data() + j * k * d, pass.sums.data() + (j + 1) * k * d,
                      sums.data());
            std::vector<double> counts(pass.counts.begin() + static_cast<ptrdiff_t>(j * k),
                                       pass.counts.begin() + static_cast<ptrdiff_t>((j + 1) * k));
            std::vector<double> shift;
            run.centers =
                update_centers(x, run.centers.view(), run.labels, sums, counts, shift, threads);
            run.inertia_history.push_back(pass.score[j]);
            ++run.iterations;
            double shift_sq = 0;
            for (double s : shift) shift_sq += s * s;
            auto& old = labels_old[live[j]];
            if (run.labels == old) {
                run.strict = run.converged = true;
            } else if (shift_sq <= tol) {
                run.converged = true;
            }
            if (run.converged || run.iterations >= max_iter) done[live[j]] = true;
            old = run.labels;
        }
        if (progress) progress(pass_no, max_iter);
    }
    // Final pass over all restarts: the E-step for those that did not stop on stable labels (so
    // labels match the returned centres), and every restart's inertia by the GEMM formula.
    std::vector<size_t> all(n_runs);
    for (size_t r = 0; r < n_runs; ++r) all[r] = r;
    Matrix stacked = stack_centers(runs, all, k, d);
    std::vector<Member> members;
    for (auto& run : runs) members.push_back({run.labels.data(), !run.strict, false});
    PassResult pass = lloyd_pass(x, x_norms, stacked.view(), k, members, threads);
    for (size_t r = 0; r < n_runs; ++r) runs[r].inertia = pass.score[r];
    return runs;
}

Step lloyd_step_fast(ConstMatView x, ConstMatView centers, int threads) {
    const size_t k = centers.rows();
    std::vector<double> norms = row_norms_d(x, threads);
    Step step;
    step.labels.assign(x.rows(), 0);
    Member member{step.labels.data(), true, true};
    PassResult pass = lloyd_pass(x, norms, centers, k, std::span(&member, 1), threads);
    std::vector<double> shift;
    step.counts = pass.counts;
    step.centers = update_centers(x, centers, step.labels, pass.sums, step.counts, shift, threads);
    for (double s : shift) step.shift_sq += s * s;
    return step;
}

Step lloyd_step_reference(ConstMatView x, ConstMatView centers) {
    const size_t n = x.rows(), d = x.cols(), k = centers.rows();
    Step step;
    step.labels.assign(n, 0);
    MatrixD sums(k, d);
    step.counts.assign(k, 0.0);
    for (size_t i = 0; i < n; ++i) {
        double best = 0;
        int32_t label = 0;
        for (size_t j = 0; j < k; ++j) {
            double s = 0;
            for (size_t f = 0; f < d; ++f) {
                double diff = static_cast<double>(x(i, f)) - centers(j, f);
                s += diff * diff;
            }
            if (j == 0 || s < best) {
                best = s;
                label = static_cast<int32_t>(j);
            }
        }
        step.labels[i] = label;
        step.counts[static_cast<size_t>(label)] += 1;
        for (size_t f = 0; f < d; ++f) sums(static_cast<size_t>(label), f) += x(i, f);
    }
    std::vector<double> shift;
    step.centers = update_centers(x, centers, step.labels, sums, step.counts, shift, 1);
    for (double s : shift) step.shift_sq += s * s;
    return step;
}

}  // namespace promptlens::kmeans_detail
