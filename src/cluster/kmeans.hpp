// K-means clustering with scikit-learn 1.2 semantics (`sklearn.cluster.KMeans`): greedy k-means++
// seeding, Lloyd or Elkan iterations, tolerance scaled by the mean per-column variance,
// convergence on the squared centre shift or on strictly stable labels, a final E-step so labels
// match the returned centres, empty clusters relocated to the points farthest from their centres,
// and the data centred on its column means while iterating (as scikit-learn does, for accuracy).
//
// Speed: all n_init restarts run together. Each pass over the rows computes the distances to
// the centres of every live restart with one row-blocked float32 GEMM (‖c‖² − 2x·c) and
// accumulates the new centres per row chunk in double, combined in chunk order, so the result is
// bitwise identical for any thread count. `kmeans_detail.hpp` holds the plain reference step the
// fast path is tested against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/matrix.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"

namespace promptlens {

enum class KMeansAlgorithm {
    lloyd,  // one GEMM pass per iteration over all restarts; the fast default
    elkan,  // triangle-inequality bounds (Elkan 2003); same result as lloyd, one restart at a time
};

struct KMeansOptions {
    size_t clusters = 8;    // k ≥ 1, at most the number of rows
    size_t n_init = 10;     // restarts from different k-means++ seeds; the lowest inertia wins
    size_t max_iter = 300;  // Lloyd/Elkan iterations per restart
    double tol = 1e-4;  // on the squared Frobenius centre shift, relative to mean column variance
    KMeansAlgorithm algorithm = KMeansAlgorithm::lloyd;
    uint64_t seed = 0;  // restart r seeds k-means++ with Rng(seed, r)
    int threads = 1;    // 0 = all hardware threads; results do not depend on it
    // Called after each Lloyd pass (all live restarts together) with (pass, max_iter), or with
    // (restarts done, n_init) for Elkan, which runs restarts one at a time. Empty: silent.
    ProgressCallback progress;
};

struct KMeansResult {
    Matrix centers;               // k×d
    std::vector<int32_t> labels;  // N, cluster of each row
    double inertia = 0;           // sum of squared distances to the assigned centre (double)
    size_t iterations = 0;        // of the winning restart
    bool converged = false;       // the winning restart stopped before max_iter ran out
    size_t best_init = 0;         // index of the winning restart
};

// x is N×d. Runs options.n_init restarts from k-means++ seeds and returns the lowest inertia.
KMeansResult kmeans_fit(ConstMatView x, const KMeansOptions& options);

// One run from given initial centres (k×d), no restarts (options.n_init and seed are ignored):
// what `KMeans(init=centres, n_init=1)` does; the golden tests compare this.
KMeansResult kmeans_fit_from(ConstMatView x, ConstMatView initial_centers,
                             const KMeansOptions& options);

// Greedy k-means++ as scikit-learn's `_kmeans_plusplus`: 2 + floor(ln k) candidates per step,
// the one that lowers the potential most is kept. x is N×d; returns k×d rows of x.
Matrix kmeans_plusplus(ConstMatView x, size_t k, Rng& rng, int threads = 1);

// Nearest centre of each row (first one on ties). centers is k×d, x is N×d.
std::vector<int32_t> kmeans_predict(ConstMatView centers, ConstMatView x, int threads = 1);

// N×k Euclidean distances from each row of x to each centre (computed from differences in
// double, so a row equal to a centre gives exactly 0).
Matrix kmeans_transform(ConstMatView centers, ConstMatView x, int threads = 1);

}  // namespace promptlens
