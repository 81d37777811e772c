// Picks the k-nearest-neighbour index for a job: exact (ExactNeighbors, blocked GEMM) or
// approximate (NNDescentIndex), Euclidean or cosine. t-SNE and UMAP call `make_neighbor_index`
// and then `self_neighbors`; the method `automatic` takes the exact index for small data, where
// brute force costs little and is exact, and NN-descent above `exact_max_rows`.
#pragma once

#include <cstddef>
#include <memory>

#include "metrics/neighbors.hpp"
#include "metrics/nn_descent.hpp"

namespace promptlens {

enum class NeighborMethod { automatic, exact, approximate };

struct NeighborIndexOptions {
    NeighborMethod method = NeighborMethod::automatic;
    Metric metric = Metric::euclidean;
    // Largest k self searches will ask for (t-SNE: 3·perplexity + 1 = 91 at perplexity 30; UMAP:
    // n_neighbors − 1 = 14): the approximate index builds its graph at this degree.
    size_t max_k = 15;
    // automatic: exact at or below this many rows. Measured on 2 cores (bench/bench_neighbors):
    // NN-descent overtakes brute force around here at k = 91 and well below it at k = 15.
    size_t exact_max_rows = 10000;
    uint64_t seed = 0;
    int threads = 1;  // build threads (0 = all); results do not depend on it
    // NN-descent's accuracy knobs (its n_neighbors, seed and threads are overridden by the
    // fields above).
    NNDescentOptions nn_descent;
};

// Builds the index over `data` (N×d). The exact index keeps a view of `data` (must outlive it).
std::unique_ptr<NeighborIndex> make_neighbor_index(ConstMatView data,
                                                   const NeighborIndexOptions& options);

// The method `automatic` resolves to for N rows.
NeighborMethod resolve_method(const NeighborIndexOptions& options, size_t rows);

}  // namespace promptlens
