#include "embed/tsne.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "embed/tsne_attraction.hpp"
#include "reduce/pca.hpp"

namespace promptlens {
namespace {

constexpr size_t kRowChunk = 256;  // rows per parallel chunk of the attractive pass and update

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Sum of per-chunk partials in chunk order (deterministic for any thread count).
double ordered_sum(const std::vector<double>& partials) {
    double s = 0;
    for (double v : partials) s += v;
    return s;
}

struct Phase {
    size_t begin, end;  // iterations [begin, end), 0-based
    double momentum, exaggeration;
    size_t no_progress;  // n_iter_without_progress of this phase
};

struct PhaseEnd {
    size_t last = 0;  // last iteration run (sklearn's returned `i`)
    double kl = std::numeric_limits<double>::quiet_NaN();
    TsneStop stop = TsneStop::max_iter;
};

// Σ e·p_ij log(e·p_ij / q_ij), q_ij = w_ij / Z, over the stored entries of rows [begin, end).
double kl_rows(const CsrMatrix& p, double exaggeration, std::span<const double> y, size_t dims,
               double inv_z, size_t begin, size_t end) {
    double kl = 0;
    for (size_t i = begin; i < end; ++i) {
        const double* yi = y.data() + i * dims;
        for (auto e = static_cast<size_t>(p.indptr[i]); e < static_cast<size_t>(p.indptr[i + 1]);
             ++e) {
            const double w =
                tsne_kernel(yi, y.data() + static_cast<size_t>(p.indices[e]) * dims, dims);
            const double pe = exaggeration * p.values[e];
            if (pe > 0) kl += pe * std::log(pe / (w * inv_z));
        }
    }
    return kl;
}

}  // namespace

const char* to_string(TsneInit init) {
    return init == TsneInit::pca ? "pca" : "random";
}

const char* tsne_method_name(TsneRepulsionMethod method) {
    switch (method) {
        case TsneRepulsionMethod::exact:
            return "exact";
        case TsneRepulsionMethod::barnes_hut:
            return "barnes-hut";
        case TsneRepulsionMethod::fft:
            return "fft";
    }
    return "?";
}

const char* to_string(TsneStop stop) {
    switch (stop) {
        case TsneStop::max_iter:
            return "max_iter reached";
        case TsneStop::grad_norm:
            return "gradient norm below min_grad_norm";
        case TsneStop::no_progress:
            return "no KL progress";
    }
    return "?";
}

TsneRepulsionMethod tsne_auto_repulsion(size_t n, size_t components) {
    if (n < kTsneExactMaxRows) return TsneRepulsionMethod::exact;
    if (n < kTsneBarnesHutMaxRows && components == 2) return TsneRepulsionMethod::barnes_hut;
    return TsneRepulsionMethod::fft;
}

double tsne_gradient(const CsrMatrix& p, double exaggeration, std::span<const double> y,
                     size_t dims, std::span<double> grad, const TsneRepulsionOptions& repulsion,
                     int threads, bool with_kl) {
    const size_t n = p.n;
    require(dims >= 1 && dims <= 8, "t-SNE gradient: {} dimensions; supported 1 to 8", dims);
    require(y.size() == n * dims && grad.size() == n * dims,
            "t-SNE gradient: {} points × {} dims need {} values, got {} and {}", n, dims, n * dims,
            y.size(), grad.size());
    // Repulsion first: the KL needs Z. grad holds the unnormalised repulsion meanwhile.
    const double z = tsne_repulsion(y, n, dims, grad, repulsion);
    const double inv_z = 1.0 / z;
    const size_t chunks = chunk_count(n, kRowChunk);
    std::vector<double> kl_part(chunks, 0.0);
    parallel_for(chunks, threads, [&](size_t chunk) {
        const size_t begin = chunk * kRowChunk, end = std::min(n, (chunk + 1) * kRowChunk);
        double attr[kRowChunk * 8];
        tsne_attraction(p, exaggeration, y, dims, begin, end, attr);
        for (size_t i = begin; i < end; ++i) {
            double* gi = grad.data() + i * dims;
            const double* ai = attr + (i - begin) * dims;
            for (size_t c = 0; c < dims; ++c) gi[c] = 4.0 * (ai[c] - gi[c] * inv_z);
        }
        if (with_kl) kl_part[chunk] = kl_rows(p, exaggeration, y, dims, inv_z, begin, end);
    });
    return with_kl ? ordered_sum(kl_part) : std::numeric_limits<double>::quiet_NaN();
}

namespace {

// sklearn's _gradient_descent for one phase. update and gains start fresh, as each sklearn call
// allocates them.
PhaseEnd run_phase(const CsrMatrix& p, MatrixD& y, const Phase& phase, const TsneOptions& o,
                   double learning_rate, const TsneRepulsionOptions& rep, TsneResult& result,
                   const ProgressCallback& progress, const TsneMonitor& monitor) {
    const size_t n = y.rows(), dims = y.cols(), count = n * dims;
    std::vector<double> grad(count), update(count, 0.0), gains(count, 1.0);
    const size_t chunks = chunk_count(n, kRowChunk);
    std::vector<double> norm_part(chunks);
    PhaseEnd end;
    end.last = phase.begin;
    double best_kl = std::numeric_limits<double>::max();
    size_t best_iter = phase.begin;
    for (size_t i = phase.begin; i < phase.end; ++i) {
        end.last = i;
        const bool check = (i + 1) % o.check_every == 0;
        const bool with_kl = check || i + 1 == phase.end;
        const double kl =
            tsne_gradient(p, phase.exaggeration, y.values(), dims, grad, rep, o.threads, with_kl);
        if (with_kl) end.kl = kl;
        parallel_for(chunks, o.threads, [&](size_t chunk) {
            const size_t b = chunk * kRowChunk * dims;
            const size_t e = std::min(n, (chunk + 1) * kRowChunk) * dims;
            double sq = 0;
            double* yv = y.data();
            for (size_t t = b; t < e; ++t) {
                double g = grad[t];
                if (update[t] * g < 0.0) {
                    gains[t] += 0.2;
                } else {
                    gains[t] *= 0.8;
                }
                gains[t] = std::max(gains[t], o.min_gain);
                g *= gains[t];
                update[t] = phase.momentum * update[t] - learning_rate * g;
                yv[t] += update[t];
                sq += g * g;
            }
            norm_part[chunk] = sq;
        });
        if (progress) progress(i + 1, o.max_iter);
        if (!check) continue;
        const double grad_norm = std::sqrt(ordered_sum(norm_part));
        result.grad_norm = grad_norm;
        result.kl_history.push_back({i + 1, kl});
        if (monitor) monitor(i + 1, o.max_iter, kl);
        if (kl < best_kl) {
            best_kl = kl;
            best_iter = i;
        } else if (i - best_iter > phase.no_progress) {
            end.stop = TsneStop::no_progress;
            break;
        }
        if (grad_norm <= o.min_grad_norm) {
            end.stop = TsneStop::grad_norm;
            break;
        }
    }
    return end;
}

void check_options(const TsneOptions& o) {
    require(o.components == 1 || o.components == 2,
            "t-SNE: {} components requested; only 1-D and 2-D embeddings are supported (the "
            "repulsion methods implement the one-degree-of-freedom kernel; scikit-learn uses "
            "n_components − 1 degrees of freedom above 2)",
            o.components);
    require(o.early_exaggeration >= 1, "t-SNE: early_exaggeration must be ≥ 1, got {}",
            o.early_exaggeration);
    require(o.learning_rate >= 0 && std::isfinite(o.learning_rate),
            "t-SNE: learning_rate must be positive (or 0 for auto), got {}", o.learning_rate);
    require(o.max_iter >= 1, "t-SNE: max_iter must be at least 1");
    require(o.check_every >= 1, "t-SNE: check_every must be at least 1");
    require(o.min_gain > 0, "t-SNE: min_gain must be positive, got {}", o.min_gain);
}

TsneRepulsionOptions repulsion_for(size_t n, const TsneOptions& o) {
    TsneRepulsionOptions r = o.repulsion;
    if (o.repulsion_auto) r.method = tsne_auto_repulsion(n, o.components);
    r.threads = o.threads;
    return r;
}

}  // namespace

TsneResult tsne_optimize(const CsrMatrix& p, MatrixD& y, const TsneOptions& o,
                         const ProgressCallback& progress, const TsneMonitor& monitor) {
    check_options(o);
    const size_t n = y.rows();
    require(p.n == n, "t-SNE: P is {} × {} but the embedding has {} rows", p.n, p.n, n);
    require(y.cols() == o.components, "t-SNE: initial embedding has {} columns, expected {}",
            y.cols(), o.components);
    TsneResult result;
    result.learning_rate =
        o.learning_rate > 0 ? o.learning_rate
                            : std::max(static_cast<double>(n) / o.early_exaggeration / 4.0, 50.0);
    const TsneRepulsionOptions rep = repulsion_for(n, o);
    result.repulsion = rep.method;

    const size_t first_end = std::min(o.exaggeration_iterations, o.max_iter);
    PhaseEnd last{};
    bool ran = false;
    if (first_end > 0) {
        // sklearn passes n_iter_without_progress = _EXPLORATION_N_ITER in phase 1.
        last = run_phase(p, y,
                         {0, first_end, o.momentum_exaggeration, o.early_exaggeration,
                          o.exaggeration_iterations},
                         o, result.learning_rate, rep, result, progress, monitor);
        ran = true;
    }
    const size_t second_begin = ran ? last.last + 1 : 0;
    if (second_begin < o.max_iter) {
        last =
            run_phase(p, y, {second_begin, o.max_iter, o.momentum, 1.0, o.n_iter_without_progress},
                      o, result.learning_rate, rep, result, progress, monitor);
    }
    result.iterations = last.last + 1;
    result.kl_divergence = last.kl;
    result.stop = last.stop;
    if (result.kl_history.empty() || result.kl_history.back().iteration != result.iterations) {
        result.kl_history.push_back({result.iterations, last.kl});
    }
    for (double v : y.values()) {
        require(std::isfinite(v),
                "t-SNE: the embedding diverged (non-finite coordinate) after "
                "{} iterations; try a smaller learning rate",
                result.iterations);
    }
    return result;
}

MatrixD tsne_initial_embedding(ConstMatView x, const TsneOptions& o) {
    const size_t n = x.rows(), k = o.components;
    MatrixD y(n, k);
    if (o.init == TsneInit::random) {
        Rng rng(o.seed);
        for (double& v : y.values()) v = 1e-4 * rng.normal();
        return y;
    }
    PcaOptions po;
    po.components = k;
    po.threads = o.threads;
    po.seed = o.seed;
    Matrix scores = pca_fit_transform(x, po);
    double mean = 0;
    for (size_t i = 0; i < n; ++i) mean += scores(i, 0);
    mean /= static_cast<double>(n);
    double var = 0;
    for (size_t i = 0; i < n; ++i) var += (scores(i, 0) - mean) * (scores(i, 0) - mean);
    const double sd = std::sqrt(var / static_cast<double>(n));  // np.std: ddof = 0
    require(sd > 0,
            "t-SNE: PCA initialisation is degenerate (the first component has no spread: all {} "
            "rows are identical); use init=random",
            n);
    for (size_t i = 0; i < n; ++i) {
        for (size_t c = 0; c < k; ++c) y(i, c) = static_cast<double>(scores(i, c)) / sd * 1e-4;
    }
    return y;
}

TsneResult tsne_fit(ConstMatView x, const TsneOptions& o, const ProgressCallback& progress,
                    const TsneMonitor& monitor) {
    check_options(o);
    check_tsne_perplexity(x.rows(), o.perplexity);
    for (size_t i = 0; i < x.rows(); ++i) {
        auto r = x.row(i);
        for (size_t c = 0; c < r.size(); ++c) {
            require(std::isfinite(r[c]), "t-SNE: row {}, column {} is {}; features must be finite",
                    i, c, r[c]);
        }
    }
    auto t0 = std::chrono::steady_clock::now();
    TsneAffinities aff = tsne_affinities(x, o.perplexity, o.metric, o.threads, o.neighbors, o.seed);
    const double t_aff = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    MatrixD y = tsne_initial_embedding(x, o);
    const double t_init = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    TsneResult result = tsne_optimize(aff.p, y, o, progress, monitor);
    result.seconds_optimize = seconds_since(t0);
    result.seconds_affinities = t_aff;
    result.seconds_init = t_init;
    result.neighbors = aff.neighbors;
    result.affinity_nnz = aff.p.nnz();
    result.rows_not_converged = aff.rows_not_converged;
    result.embedding = Matrix(y.rows(), y.cols());
    for (size_t t = 0; t < y.size(); ++t) {
        result.embedding.values()[t] = static_cast<float>(y.values()[t]);
    }
    return result;
}

}  // namespace promptlens
