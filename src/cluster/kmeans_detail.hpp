// Internals of kmeans.cpp shared by the Lloyd engine (kmeans_lloyd.cpp), the Elkan run
// (kmeans_elkan.cpp), k-means++ (kmeans_init.cpp) and the tests: the plain reference step the
// fast path is checked against, the batched Lloyd engine (all restarts share one GEMM pass over
// the rows), and the centre update common to all of them (empty-cluster relocation, averaging,
// centre shift). Everything here works on the column-centred data, as scikit-learn's fit does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/matrix.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"

namespace promptlens::kmeans_detail {

// Rows per GEMM block: the block (128×d floats, 384 KiB at d = 768) stays in L2 between the
// distance GEMM and the centre-sum GEMM.
constexpr size_t kBlockRows = 128;
// Rows per parallel chunk (a multiple of kBlockRows); each chunk owns one double partial sum,
// combined in chunk order. Depends only on the problem, never on the thread count.
size_t chunk_rows(size_t n_rows, size_t partial_doubles_per_chunk);

// ‖a − b‖² over d floats, in double with 8 interleaved partial sums (vectorisable without
// -ffast-math; the summation order is fixed, so results are reproducible).
inline double sq_dist(const float* a, const float* b, size_t d) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t f = 0;
    for (; f + 8 <= d; f += 8) {
        for (size_t l = 0; l < 8; ++l) {
            const double t = static_cast<double>(a[f + l]) - static_cast<double>(b[f + l]);
            acc[l] += t * t;
        }
    }
    for (; f < d; ++f) {
        const double t = static_cast<double>(a[f]) - static_cast<double>(b[f]);
        acc[f % 8] += t * t;
    }
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

// ‖a‖² over d floats, same scheme.
inline double sq_norm(const float* a, size_t d) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t f = 0;
    for (; f + 8 <= d; f += 8) {
        for (size_t l = 0; l < 8; ++l) acc[l] += static_cast<double>(a[f + l]) * a[f + l];
    }
    for (; f < d; ++f) acc[f % 8] += static_cast<double>(a[f]) * a[f];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

// x is N×d; out[i] = ‖x_i‖² in double.
std::vector<double> row_norms_d(ConstMatView x, int threads);

// The M-step shared by every path. sums (k×d) and counts (k) are the per-cluster sums of the
// rows of x (N×d) under `labels`, from centres `old_centers` (k×d). Relocates empty clusters to
// the rows farthest from their centre (scikit-learn's `_relocate_empty_clusters_dense`; ties
// between equal distances go to the lower row index), averages, and returns the new centres
// (k×d). shift[j] = ‖new_j − old_j‖ (double).
Matrix update_centers(ConstMatView x, ConstMatView old_centers, std::span<const int32_t> labels,
                      MatrixD& sums, std::vector<double>& counts, std::vector<double>& shift,
                      int threads);

// One Lloyd step: labels from `centers`, then the new centres.
struct Step {
    std::vector<int32_t> labels;  // N
    Matrix centers;               // k×d, after the M-step
    std::vector<double> counts;   // k, rows per cluster after relocation
    double shift_sq = 0;          // Σ_j ‖new_j − old_j‖²
};
// Plain loops in double, exact distances from differences; no GEMM.
Step lloyd_step_reference(ConstMatView x, ConstMatView centers);
// The engine's pass for one restart (GEMM distances, chunked double sums).
Step lloyd_step_fast(ConstMatView x, ConstMatView centers, int threads);

// One restart's run, as the engine and the Elkan run return it.
struct Run {
    Matrix centers;               // k×d
    std::vector<int32_t> labels;  // N, consistent with `centers` (final E-step done)
    size_t iterations = 0;
    bool converged = false;
    bool strict = false;                  // stopped because labels did not change
    double inertia = 0;                   // GEMM-formula estimate (lloyd) or exact (elkan)
    std::vector<double> inertia_history;  // per iteration, from the E-step (tests use it)
};

// Runs every restart from its initial centres (each k×d) to convergence, sharing passes.
// x is N×d, x_norms its squared row norms. `tol` is absolute (already scaled).
std::vector<Run> lloyd_batch(ConstMatView x, std::span<const double> x_norms,
                             const std::vector<Matrix>& initial, size_t max_iter, double tol,
                             int threads, const ProgressCallback& progress = {});
Run elkan_run(ConstMatView x, ConstMatView initial, size_t max_iter, double tol, int threads);

// Greedy k-means++ for several restarts at once (one GEMM pass per step for all of them);
// restart r draws from rngs[r] only, so its result does not depend on the others.
std::vector<Matrix> kmeans_plusplus_batch(ConstMatView x, std::span<const double> x_norms, size_t k,
                                          std::span<Rng> rngs, int threads);

// Σ_i ‖x_i − c_{labels_i}‖² from differences, in double, chunk order.
double inertia_exact(ConstMatView x, ConstMatView centers, std::span<const int32_t> labels,
                     int threads);

}  // namespace promptlens::kmeans_detail
