// t-SNE (van der Maaten & Hinton 2008) with scikit-learn 1.2.1 `TSNE` semantics: sparse input
// affinities P from the kNN graph (tsne_affinity.hpp), a Student-t kernel with one degree of
// freedom in the embedding, and sklearn's `_gradient_descent` schedule:
//  * phase 1: P × early_exaggeration (12) for 250 iterations, momentum 0.5;
//  * phase 2: plain P, momentum 0.8, up to max_iter (1000) iterations in all;
//  * each phase starts with zero velocity and unit gains; gains +0.2 where the gradient's sign
//    differs from the last update's, ×0.8 elsewhere, floored at min_gain (0.01);
//  * every 50 iterations: the KL divergence (with the P of that phase, exaggerated or not, as
//    sklearn reports it) and the norm of the gain-scaled gradient; a phase stops when that norm
//    ≤ min_grad_norm or when the KL has not improved for more than n_iter_without_progress
//    iterations (250 in phase 1, 300 in phase 2).
// learning_rate "auto" is max(N / early_exaggeration / 4, 50); init "pca" is the top principal
// components divided by the standard deviation of the first, × 1e-4; "random" is N(0, 1e-4²)
// from the seed (our generator, so not sklearn's numbers).
//
// The gradient is 4·[Σ_j e·p_ij w_ij (y_i − y_j) − (1/Z) Σ_j w_ij² (y_i − y_j)], w = 1/(1+d²).
// The attractive sum runs over the CSR rows of P in fixed chunks of rows; the repulsive sum and Z
// come from tsne_repulsion.hpp (exact, Barnes-Hut or FFT). The working embedding is double; the
// result is float32. Everything is deterministic for a seed, whatever the thread count.
//
// Deviations from sklearn, on purpose: the PCA is exact (sklearn uses PCA(svd_solver=
// "randomized")); above 10,000 rows the kNN search is approximate (NN-descent) by default;
// sklearn's Barnes-Hut path works in float32, ours in double; only 1-D and 2-D embeddings (sklearn
// uses dof = n_components − 1 above 2 components, a kernel the fast repulsion methods do not
// implement).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/matrix.hpp"
#include "core/progress.hpp"
#include "embed/tsne_affinity.hpp"
#include "embed/tsne_repulsion.hpp"

namespace promptlens {

enum class TsneInit { pca, random };
const char* to_string(TsneInit init);
const char* tsne_method_name(TsneRepulsionMethod method);  // "exact", "barnes-hut", "fft"

// The repulsion method `repulsion_auto` picks: exact below kTsneExactMaxRows rows (at most 10⁶
// pairs per iteration, ~1–3 s for the whole run, and no approximation), Barnes-Hut (θ = 0.5,
// sklearn's method) below kTsneBarnesHutMaxRows, FFT interpolation from there (O(N) per
// iteration; openTSNE switches at the same 10,000 rows). 1-D embeddings use FFT above the exact
// range (Barnes-Hut is 2-D only).
inline constexpr size_t kTsneExactMaxRows = 1000;
inline constexpr size_t kTsneBarnesHutMaxRows = 10000;
TsneRepulsionMethod tsne_auto_repulsion(size_t n, size_t components);

struct TsneOptions {
    size_t components = 2;   // 1 or 2 (see the top of this file)
    double perplexity = 30;  // effective neighbours; k = min(N−1, ⌊3·perplexity + 1⌋)
    TsneMetric metric = TsneMetric::euclidean;
    // kNN search for P: automatic = exact up to 10,000 rows, NN-descent above (approximate:
    // a few percent of the neighbour lists differ, which moves P little; see the bench).
    NeighborMethod neighbors = NeighborMethod::automatic;
    double early_exaggeration = 12;        // P multiplier in phase 1; ≥ 1 (1 = no exaggeration)
    size_t exaggeration_iterations = 250;  // length of phase 1 (sklearn's _EXPLORATION_N_ITER)
    double learning_rate = 0;              // 0 = "auto": max(N / early_exaggeration / 4, 50)
    size_t max_iter = 1000;                // total iterations, both phases (sklearn's n_iter)
    size_t n_iter_without_progress = 300;  // phase 2 stops after this many without a KL gain
    double min_grad_norm = 1e-7;           // a phase stops when the scaled gradient's norm is below
    double momentum_exaggeration = 0.5;    // phase 1
    double momentum = 0.8;                 // phase 2
    double min_gain = 0.01;
    size_t check_every = 50;  // KL / stopping checks (sklearn's _N_ITER_CHECK)
    TsneInit init = TsneInit::pca;
    // Repulsion method and its parameters. With repulsion_auto the method is chosen by
    // tsne_auto_repulsion(N, components); repulsion.threads is replaced by `threads`.
    TsneRepulsionOptions repulsion;
    bool repulsion_auto = true;
    uint64_t seed = 0;  // random init and the NN-descent graph
    int threads = 1;    // 0 = all hardware threads; results do not depend on it
};

enum class TsneStop { max_iter, grad_norm, no_progress };
const char* to_string(TsneStop stop);

struct TsneKl {
    size_t iteration;  // 1-based: the KL of the embedding entering this iteration
    double kl;
};

struct TsneResult {
    Matrix embedding;          // N×components float32
    double kl_divergence = 0;  // the last one computed (sklearn's kl_divergence_)
    size_t iterations = 0;     // iterations run (sklearn's n_iter_ + 1)
    TsneStop stop = TsneStop::max_iter;
    double grad_norm = 0;      // at the last check
    double learning_rate = 0;  // the one used (after "auto")
    TsneRepulsionMethod repulsion = TsneRepulsionMethod::exact;
    size_t neighbors = 0;            // k
    size_t affinity_nnz = 0;         // nonzeros of the symmetric P
    size_t rows_not_converged = 0;   // perplexity search rows that hit the step limit
    std::vector<TsneKl> kl_history;  // every check_every iterations, and the last
    double seconds_affinities = 0, seconds_init = 0, seconds_optimize = 0;
};

// Called at every KL check (iteration, max_iter, KL); empty: nobody listens.
using TsneMonitor = std::function<void(size_t iteration, size_t total, double kl)>;

// x is N×d. progress counts iterations (called every iteration).
TsneResult tsne_fit(ConstMatView x, const TsneOptions& options,
                    const ProgressCallback& progress = {}, const TsneMonitor& monitor = {});

// The optimiser alone, from affinities P (symmetric, summing to 1) and an initial embedding y
// (N×dims, double, updated in place). Fills the optimisation fields of the result (not
// embedding, neighbors, affinity fields or timings).
TsneResult tsne_optimize(const CsrMatrix& p, MatrixD& y, const TsneOptions& options,
                         const ProgressCallback& progress = {}, const TsneMonitor& monitor = {});

// The KL gradient at y (N×dims) for P × exaggeration: writes grad (N×dims) and returns the KL
// divergence Σ e·p_ij log(e·p_ij / q_ij) over the nonzeros of P (computed only when `with_kl`;
// NaN otherwise). Repulsion by `repulsion` (method used as given).
double tsne_gradient(const CsrMatrix& p, double exaggeration, std::span<const double> y,
                     size_t dims, std::span<double> grad, const TsneRepulsionOptions& repulsion,
                     int threads, bool with_kl = true);

// The initial embedding (N×components, double) as tsne_fit makes it.
MatrixD tsne_initial_embedding(ConstMatView x, const TsneOptions& options);

}  // namespace promptlens
