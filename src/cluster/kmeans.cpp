// KMeans entry points (input checks, centring, restarts, choice of the winner), predict and
// transform, and the helpers shared by the Lloyd, Elkan and k-means++ files.
#include "cluster/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "cluster/kmeans_detail.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "linalg/gemm.hpp"

namespace promptlens {
namespace kmeans_detail {

size_t chunk_rows(size_t n_rows, size_t partial_doubles_per_chunk) {
    // 8 blocks per chunk, more when the partial sums of all chunks would pass ~256 MiB.
    size_t rows = 8 * kBlockRows;
    const size_t budget = size_t{32} << 20;  // doubles
    while (rows < n_rows && chunk_count(n_rows, rows) * partial_doubles_per_chunk > budget)
        rows *= 2;
    return rows;
}

std::vector<double> row_norms_d(ConstMatView x, int threads) {
    std::vector<double> out(x.rows());
    const size_t crows = 8 * kBlockRows;
    parallel_for(chunk_count(x.rows(), crows), threads, [&](size_t c) {
        for (size_t i = c * crows; i < std::min(x.rows(), (c + 1) * crows); ++i) {
            out[i] = sq_norm(x.row(i).data(), x.cols());
        }
    });
    return out;
}

Matrix update_centers(ConstMatView x, ConstMatView old_centers, std::span<const int32_t> labels,
                      MatrixD& sums, std::vector<double>& counts, std::vector<double>& shift,
                      int threads) {
    const size_t n = x.rows(), d = x.cols(), k = old_centers.rows();
    std::vector<size_t> empty;
    for (size_t j = 0; j < k; ++j)
        if (counts[j] == 0) empty.push_back(j);
    if (!empty.empty()) {
        // Squared distance of every row to its (old) centre; the farthest rows found the empty
        // clusters, one each, in cluster order. Their labels stay (as in scikit-learn).
        std::vector<double> dist(n);
        const size_t crows = 8 * kBlockRows;
        parallel_for(chunk_count(n, crows), threads, [&](size_t c) {
            for (size_t i = c * crows; i < std::min(n, (c + 1) * crows); ++i) {
                dist[i] = sq_dist(x.row(i).data(),
                                  old_centers.row(static_cast<size_t>(labels[i])).data(), d);
            }
        });
        std::vector<size_t> order(n);
        std::iota(order.begin(), order.end(), size_t{0});
        const auto n_far = static_cast<ptrdiff_t>(empty.size());
        std::partial_sort(
            order.begin(), order.begin() + n_far, order.end(),
            [&](size_t a, size_t b) { return dist[a] > dist[b] || (dist[a] == dist[b] && a < b); });
        for (size_t e = 0; e < empty.size(); ++e) {
            const size_t far = order[e], to = empty[e];
            const auto from = static_cast<size_t>(labels[far]);
            for (size_t f = 0; f < d; ++f) {
                sums(from, f) -= x(far, f);
                sums(to, f) = x(far, f);
            }
            counts[to] = 1;
            counts[from] -= 1;
        }
    }
    Matrix centers(k, d);
    shift.assign(k, 0.0);
    for (size_t j = 0; j < k; ++j) {
        // A cluster emptied by a relocation keeps its (zero) sum, as scikit-learn does.
        double s = 0;
        for (size_t f = 0; f < d; ++f) {
            centers(j, f) = static_cast<float>(counts[j] > 0 ? sums(j, f) / counts[j] : sums(j, f));
            double diff = static_cast<double>(centers(j, f)) - old_centers(j, f);
            s += diff * diff;
        }
        shift[j] = std::sqrt(s);
    }
    return centers;
}

double inertia_exact(ConstMatView x, ConstMatView centers, std::span<const int32_t> labels,
                     int threads) {
    const size_t n = x.rows(), d = x.cols(), crows = 8 * kBlockRows;
    const size_t n_chunks = chunk_count(n, crows);
    std::vector<double> part(n_chunks, 0.0);
    parallel_for(n_chunks, threads, [&](size_t c) {
        double total = 0;
        for (size_t i = c * crows; i < std::min(n, (c + 1) * crows); ++i) {
            total +=
                sq_dist(x.row(i).data(), centers.row(static_cast<size_t>(labels[i])).data(), d);
        }
        part[c] = total;
    });
    return std::accumulate(part.begin(), part.end(), 0.0);
}

}  // namespace kmeans_detail

namespace {

void check_options(ConstMatView x, const KMeansOptions& o) {
    require(o.clusters >= 1, "KMeans: need at least 1 cluster, got {}", o.clusters);
    require(x.rows() >= o.clusters,
            "KMeans: {} rows but {} clusters requested; need at least as many rows as clusters",
            x.rows(), o.clusters);
    require(x.cols() >= 1, "KMeans: x has {} rows but no columns", x.rows());
    require(o.n_init >= 1, "KMeans: n_init must be at least 1, got {}", o.n_init);
    require(o.max_iter >= 1, "KMeans: max_iter must be at least 1, got {}", o.max_iter);
    require(std::isfinite(o.tol) && o.tol >= 0, "KMeans: tol must be finite and >= 0, got {}",
            o.tol);
    resolve_threads(o.threads);  // throws on negative counts
}

// The column-centred copy of x that the iterations run on, its column means and the absolute
// tolerance (tol × mean column variance, scikit-learn's `_tolerance`).
struct Centred {
    Matrix x;                   // N×d, x − mean in float32 (as scikit-learn's `X -= X_mean`)
    std::vector<float> mean;    // d
    std::vector<double> norms;  // N, squared row norms of the centred rows
    double tol = 0;
};

Centred centre(ConstMatView x, double tol, int threads) {
    const size_t n = x.rows(), d = x.cols(), crows = 8 * kmeans_detail::kBlockRows;
    const size_t n_chunks = chunk_count(n, crows);
    std::vector<double> part(n_chunks * d, 0.0);
    parallel_for(n_chunks, threads, [&](size_t c) {
        double* p = part.data() + c * d;
        for (size_t i = c * crows; i < std::min(n, (c + 1) * crows); ++i) {
            auto row = x.row(i);
            for (size_t f = 0; f < d; ++f) p[f] += row[f];
        }
    });
    Centred out;
    out.mean.assign(d, 0.0f);
    for (size_t f = 0; f < d; ++f) {
        double s = 0;
        for (size_t c = 0; c < n_chunks; ++c) s += part[c * d + f];
        require(std::isfinite(s), "KMeans: column {} of x has non-finite values (NaN or inf)", f);
        out.mean[f] = static_cast<float>(s / static_cast<double>(n));
    }
    out.x = Matrix(n, d);
    parallel_for(n_chunks, threads, [&](size_t c) {
        for (size_t i = c * crows; i < std::min(n, (c + 1) * crows); ++i) {
            auto src = x.row(i);
            auto dst = out.x.row(i);
            for (size_t f = 0; f < d; ++f) dst[f] = src[f] - out.mean[f];
        }
    });
    out.norms = kmeans_detail::row_norms_d(out.x.view(), threads);
    const double total = std::accumulate(out.norms.begin(), out.norms.end(), 0.0);
    out.tol = tol * total / (static_cast<double>(n) * static_cast<double>(d));
    return out;
}

// Runs the restarts from centred initial centres; returns the winner with centres moved back.
KMeansResult run_restarts(const Centred& data, const std::vector<Matrix>& initial,
                          const KMeansOptions& o) {
    std::vector<kmeans_detail::Run> runs;
    // scikit-learn also falls back to Lloyd for one cluster.
    if (o.algorithm == KMeansAlgorithm::elkan && o.clusters > 1) {
        for (const Matrix& init : initial) {
            runs.push_back(kmeans_detail::elkan_run(data.x.view(), init.view(), o.max_iter,
                                                    data.tol, o.threads));
            if (o.progress) o.progress(runs.size(), initial.size());
        }
    } else {
        runs = kmeans_detail::lloyd_batch(data.x.view(), data.norms, initial, o.max_iter, data.tol,
                                          o.threads, o.progress);
    }
    // The lowest inertia wins; the first restart on ties.
    size_t best = 0;
    for (size_t r = 1; r < runs.size(); ++r)
        if (runs[r].inertia < runs[best].inertia) best = r;
    kmeans_detail::Run& run = runs[best];
    KMeansResult result;
    result.inertia = o.algorithm == KMeansAlgorithm::elkan && o.clusters > 1
                         ? run.inertia
                         : kmeans_detail::inertia_exact(data.x.view(), run.centers.view(),
                                                        run.labels, o.threads);
    result.centers = std::move(run.centers);
    for (size_t j = 0; j < result.centers.rows(); ++j) {
        auto c = result.centers.row(j);
        for (size_t f = 0; f < c.size(); ++f) c[f] += data.mean[f];
    }
    result.labels = std::move(run.labels);
    result.iterations = run.iterations;
    result.converged = run.converged;
    result.best_init = best;
    return result;
}

}  // namespace

KMeansResult kmeans_fit(ConstMatView x, const KMeansOptions& options) {
    check_options(x, options);
    Centred data = centre(x, options.tol, options.threads);
    std::vector<Rng> rngs;
    for (size_t r = 0; r < options.n_init; ++r) rngs.emplace_back(options.seed, r);
    std::vector<Matrix> initial = kmeans_detail::kmeans_plusplus_batch(
        data.x.view(), data.norms, options.clusters, rngs, options.threads);
    return run_restarts(data, initial, options);
}

KMeansResult kmeans_fit_from(ConstMatView x, ConstMatView initial_centers,
                             const KMeansOptions& options) {
    KMeansOptions o = options;
    o.clusters = initial_centers.rows();
    o.n_init = 1;
    check_options(x, o);
    require(initial_centers.cols() == x.cols(),
            "KMeans: initial centres have {} columns but x has {}", initial_centers.cols(),
            x.cols());
    Centred data = centre(x, o.tol, o.threads);
    Matrix init(o.clusters, x.cols());
    for (size_t j = 0; j < o.clusters; ++j) {
        for (size_t f = 0; f < x.cols(); ++f) {
            const float v = initial_centers(j, f);
            require(std::isfinite(v),
                    "KMeans: initial centre {} has a non-finite value in column {}", j, f);
            init(j, f) = v - data.mean[f];
        }
    }
    return run_restarts(data, {init}, o);
}

std::vector<int32_t> kmeans_predict(ConstMatView centers, ConstMatView x, int threads) {
    const size_t n = x.rows(), d = x.cols(), k = centers.rows();
    require(k >= 1, "kmeans_predict: no centres");
    require(centers.cols() == d, "kmeans_predict: centres have {} columns but x has {}",
            centers.cols(), d);
    // Distances are translation invariant: shift both sides by the mean centre so that the
    // float32 dot products do not carry a large common offset.
    std::vector<float> shift(d, 0.0f);
    for (size_t f = 0; f < d; ++f) {
        double s = 0;
        for (size_t j = 0; j < k; ++j) s += centers(j, f);
        shift[f] = static_cast<float>(s / static_cast<double>(k));
    }
    Matrix c(k, d);
    std::vector<float> cn(k);
    for (size_t j = 0; j < k; ++j) {
        double s = 0;
        for (size_t f = 0; f < d; ++f) {
            c(j, f) = centers(j, f) - shift[f];
            s += static_cast<double>(c(j, f)) * c(j, f);
        }
        cn[j] = static_cast<float>(s);
    }
    std::vector<int32_t> labels(n);
    const size_t bs = kmeans_detail::kBlockRows;
    parallel_for(chunk_count(n, bs), threads, [&](size_t b) {
        const size_t b0 = b * bs, bn = std::min(n, b0 + bs) - b0;
        Matrix xb(bn, d), dot(bn, k);
        for (size_t i = 0; i < bn; ++i)
            for (size_t f = 0; f < d; ++f) xb(i, f) = x(b0 + i, f) - shift[f];
        blas::gemm(Trans::N, Trans::T, 1.0f, xb.view(), c.view(), 0.0f, dot.view());
        for (size_t i = 0; i < bn; ++i) {
            float best = cn[0] - 2.0f * dot(i, 0);
            int32_t label = 0;
            for (size_t j = 1; j < k; ++j) {
                float v = cn[j] - 2.0f * dot(i, j);
                if (v < best) {
                    best = v;
                    label = static_cast<int32_t>(j);
                }
            }
            labels[b0 + i] = label;
        }
    });
    return labels;
}

Matrix kmeans_transform(ConstMatView centers, ConstMatView x, int threads) {
    const size_t n = x.rows(), d = x.cols(), k = centers.rows();
    require(centers.cols() == d, "kmeans_transform: centres have {} columns but x has {}",
            centers.cols(), d);
    Matrix out(n, k);
    const size_t bs = kmeans_detail::kBlockRows;
    parallel_for(chunk_count(n, bs), threads, [&](size_t b) {
        for (size_t i = b * bs; i < std::min(n, (b + 1) * bs); ++i) {
            for (size_t j = 0; j < k; ++j) {
                const double s = kmeans_detail::sq_dist(x.row(i).data(), centers.row(j).data(), d);
                out(i, j) = static_cast<float>(std::sqrt(s));
            }
        }
    });
    return out;
}

}  // namespace promptlens
