// Elkan's k-means (ICML 2003) as scikit-learn's `_kmeans_single_elkan`: each row keeps an upper
// bound on the distance to its centre and a lower bound per centre; half the centre-to-centre
// distances prune the rows that cannot change cluster. Distances are exact (differences, double),
// bounds are double, the centre update is the shared `update_centers`, and per-chunk sums are
// combined in chunk order. Same iterations and convergence rule as the Lloyd engine, so from the
// same start both give the same labels and iteration count (up to near-ties).
#include <algorithm>
#include <cmath>
#include <limits>

#include "cluster/kmeans_detail.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"

namespace promptlens::kmeans_detail {
namespace {

double distance(const float* a, const float* b, size_t d) {
    return std::sqrt(sq_dist(a, b, d));
}

// half(i, j) = ‖c_i − c_j‖ / 2; next[i] = min over j ≠ i of half(i, j).
void center_geometry(const Matrix& c, MatrixD& half, std::vector<double>& next) {
    const size_t k = c.rows(), d = c.cols();
    half = MatrixD(k, k);
    next.assign(k, std::numeric_limits<double>::infinity());
    for (size_t i = 0; i < k; ++i) {
        for (size_t j = i + 1; j < k; ++j) {
            half(i, j) = half(j, i) = distance(c.row(i).data(), c.row(j).data(), d) / 2;
        }
    }
    for (size_t i = 0; i < k; ++i)
        for (size_t j = 0; j < k; ++j)
            if (j != i) next[i] = std::min(next[i], half(i, j));
}

}  // namespace

Run elkan_run(ConstMatView x, ConstMatView initial, size_t max_iter, double tol, int threads) {
    const size_t n = x.rows(), d = x.cols(), k = initial.rows();
    Run run;
    run.centers = to_matrix(initial);
    run.labels.assign(n, 0);
    std::vector<int32_t> labels_old(n, -1);
    std::vector<double> upper(n, 0.0), lower(n * k, 0.0);
    MatrixD half;
    std::vector<double> next;
    center_geometry(run.centers, half, next);
    const size_t per_chunk = k * d + k;
    const size_t crows = chunk_rows(n, per_chunk);
    const size_t n_chunks = chunk_count(n, crows);

    // Initial labels and bounds (`init_bounds_dense`).
    parallel_for(n_chunks, threads, [&](size_t c) {
        const size_t end = std::min(n, (c + 1) * crows);
        for (size_t i = c * crows; i < end; ++i) {
            const float* xi = x.row(i).data();
            double* lo = lower.data() + i * k;
            size_t best = 0;
            double min_dist = distance(xi, run.centers.row(0).data(), d);
            lo[0] = min_dist;
            for (size_t j = 1; j < k; ++j) {
                if (min_dist > half(best, j)) {
                    double dist = distance(xi, run.centers.row(j).data(), d);
                    lo[j] = dist;
                    if (dist < min_dist) {
                        min_dist = dist;
                        best = j;
                    }
                }
            }
            run.labels[i] = static_cast<int32_t>(best);
            upper[i] = min_dist;
        }
    });

    // One `_update_chunk_dense` sweep from the current centres; adds rows into per-chunk sums
    // when `part` is not null.
    auto sweep = [&](double* part) {
        parallel_for(n_chunks, threads, [&](size_t c) {
            double* psum = part == nullptr ? nullptr : part + c * per_chunk;
            const size_t end = std::min(n, (c + 1) * crows);
            for (size_t i = c * crows; i < end; ++i) {
                const float* xi = x.row(i).data();
                double* lo = lower.data() + i * k;
                double ub = upper[i];
                auto label = static_cast<size_t>(run.labels[i]);
                bool tight = false;
                if (!(next[label] >= ub)) {
                    for (size_t j = 0; j < k; ++j) {
                        if (j != label && ub > lo[j] && ub > half(label, j)) {
                            if (!tight) {
                                ub = distance(xi, run.centers.row(label).data(), d);
                                lo[label] = ub;
                                tight = true;
                            }
                            if (ub > lo[j] || ub > half(label, j)) {
                                double dist = distance(xi, run.centers.row(j).data(), d);
                                lo[j] = dist;
                                if (dist < ub) {
                                    label = j;
                                    ub = dist;
                                }
                            }
                        }
                    }
                    run.labels[i] = static_cast<int32_t>(label);
                    upper[i] = ub;
                }
                if (psum != nullptr) {
                    double* dst = psum + label * d;
                    for (size_t f = 0; f < d; ++f) dst[f] += xi[f];
                    psum[k * d + label] += 1;
                }
            }
        });
    };

    std::vector<double> part(n_chunks * per_chunk);
    for (;;) {
        std::fill(part.begin(), part.end(), 0.0);
        sweep(part.data());
        MatrixD sums(k, d);
        std::vector<double> counts(k, 0.0);
        for (size_t c = 0; c < n_chunks; ++c) {
            const double* p = part.data() + c * per_chunk;
            for (size_t q = 0; q < k * d; ++q) sums.data()[q] += p[q];
            for (size_t j = 0; j < k; ++j) counts[j] += p[k * d + j];
        }
        std::vector<double> shift;
        Matrix centers_new =
            update_centers(x, run.centers.view(), run.labels, sums, counts, shift, threads);
        for (size_t i = 0; i < n; ++i) {
            upper[i] += shift[static_cast<size_t>(run.labels[i])];
            double* lo = lower.data() + i * k;
            for (size_t j = 0; j < k; ++j) lo[j] = std::max(0.0, lo[j] - shift[j]);
        }
        run.centers = std::move(centers_new);
        center_geometry(run.centers, half, next);
        ++run.iterations;
        double shift_sq = 0;
        for (double s : shift) shift_sq += s * s;
        if (run.labels == labels_old) {
            run.strict = run.converged = true;
        } else if (shift_sq <= tol) {
            run.converged = true;
        }
        if (run.converged || run.iterations >= max_iter) break;
        labels_old = run.labels;
    }
    if (!run.strict) sweep(nullptr);  // final E-step: labels match the returned centres
    run.inertia = inertia_exact(x, run.centers.view(), run.labels, threads);
    return run;
}

}  // namespace promptlens::kmeans_detail
