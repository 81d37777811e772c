// Approximate k-nearest neighbours by NN-descent (Dong, Charikar & Li 2011) initialised from a
// random-projection forest — pynndescent's algorithm, the one umap-learn uses — behind the same
// NeighborIndex interface as the exact index, which is its test oracle.
//
// Building computes the k-NN graph of the indexed rows (graph degree `Options::n_neighbors`):
//   1. RP forest: each tree splits its rows recursively by the hyperplane halfway between two
//      random rows until leaves hold ≤ leaf_size rows; every pair inside a leaf is a candidate.
//   2. NN-descent rounds: each row's neighbours and reverse neighbours (a seeded sample of at most
//      max_candidates "new" and "old" ones) are joined pairwise; a pair enters a row's list when
//      it beats the row's current k-th neighbour. Stops when a round changes fewer than
//      delta·N·k entries, or after max_iterations.
// Distances inside the joins come from small GEMMs over gathered candidate rows (‖a‖² + ‖b‖² −
// 2 a·b, double norms, on a centred copy of the data).
//
// Deterministic for any thread count: trees are built one per seeded stream; leaves of one tree
// are disjoint, so they update the graph in parallel without conflicts; a round's joins are cut
// into fixed blocks of rows whose updates are generated in parallel against the graph as it was
// before the block, bucketed by target row and applied per target bucket in block order. Candidate
// sampling uses a hash of (seed, round, row, candidate) as priority, so it does not depend on the
// order in which candidates are offered. Every list is kept ordered by (distance, index).
//
// Queries other than the indexed rows themselves are answered by a best-first search over the
// graph plus its reverse edges, started from the query's leaf in the first tree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "metrics/neighbors.hpp"

namespace promptlens {

struct NNDescentOptions {
    // Graph degree K: self searches may ask for any k ≤ K (no exact fallback above it). Must be
    // < N.
    size_t n_neighbors = 15;
    // Trees in the RP forest: more trees give a better starting graph (fewer rounds) at
    // N·leaf_size·n_trees/2 pair distances. 0 = pynndescent's min(32, 5 + round(N^¼)).
    size_t n_trees = 0;
    // Largest leaf. Larger leaves cost more pairs but give a better start. 0 = max(60, K + 1).
    size_t leaf_size = 0;
    // Candidates sampled per row per round (new and old each): the main speed / recall knob;
    // a round costs about N·max_candidates² distances. 0 = 30 (pynndescent: min(60, K)). Measured:
    // 15 gave recall 0.983 on Fashion-MNIST at K = 15, 30 gave 0.994; at K = 91, 30 costs 0.7× the
    // CPU of 60 for the same recall (0.999) on the 25,000×768 synthetic.
    size_t max_candidates = 0;
    // Upper bound on NN-descent rounds. 0 = max(5, round(log2 N)) as pynndescent.
    size_t max_iterations = 0;
    // Stop when a round changes fewer than delta·N·K list entries (0 = run all rounds).
    // pynndescent's 0.001 runs one more round than 0.005 on this project's data sets for almost
    // nothing (measured, 2,000 sampled rows against the exact lists, 2 threads): synthetic
    // 25,000×768 K = 91: recall 0.9991 → 0.9988, 6.07 s → 4.83 s; Fashion-MNIST K = 91: 0.9990 →
    // 0.9984, 21.1 s → 17.9 s; K = 15: 0.9943 → 0.9939, 4.5 s → 3.9 s.
    double delta = 0.005;
    // Candidate pool of a search for foreign queries (≥ k is used): larger is slower and closer
    // to exact. 0 = max(2k, 64).
    size_t search_pool = 0;
    uint64_t seed = 0;
    int threads = 1;  // build threads (0 = all); the result does not depend on it
};

struct NNDescentDetails {
    size_t n_trees = 0, leaf_size = 0, max_candidates = 0;  // as resolved from the options
    size_t iterations = 0;                                  // NN-descent rounds run
    bool converged = false;                                 // stopped by delta, not the cap
    std::vector<size_t> updates;                            // list entries changed per round
    double seconds_forest = 0, seconds_descent = 0;
};

class NNDescentIndex final : public NeighborIndex {
  public:
    // Builds the graph of `data` (N×d, must be finite). Euclidean keeps a view of `data` (only to
    // recognise self searches; it must outlive the index); both metrics keep a prepared copy.
    NNDescentIndex(ConstMatView data, Metric metric, const NNDescentOptions& options);
    ~NNDescentIndex() override;

    size_t size() const override { return n_; }
    size_t dims() const override { return dims_; }
    Metric metric() const override { return metric_; }
    // Self searches (queries = the indexed view, exclude = each query's own row) return the graph's
    // first k entries; other queries run the graph search. `threads` parallelises queries only.
    Neighbors search(ConstMatView queries, size_t k, std::span<const int64_t> exclude,
                     int threads) const override;

    const NNDescentDetails& details() const { return details_; }
    size_t graph_degree() const { return k_; }

  private:
    struct Forest;
    Neighbors graph_prefix(size_t k, bool include_self) const;
    Matrix sketch_rows(ConstMatView x) const;  // x·sketch_ (or a copy when d' ≤ 64)
    Neighbors graph_search(ConstMatView queries, size_t k, std::span<const int64_t> exclude,
                           int threads) const;

    Metric metric_;
    size_t n_ = 0, dims_ = 0, k_ = 0;
    ConstMatView source_;  // the caller's data (recognises self searches)
    Matrix points_;        // N×d' prepared rows (centred, or cosine_rows), in internal order
    std::vector<int32_t> order_;         // internal row r is the caller's row order_[r]
    std::vector<int32_t> rank_;          // and the caller's row i is internal row rank_[i]
    std::vector<double> mean_;           // the centre subtracted (Euclidean)
    std::vector<double> norms_;          // ‖points_i‖²
    std::vector<int32_t> graph_;         // N×K neighbours, each row sorted by (d², index)
    std::vector<float> graph_d2_;        // N×K squared distances on points_
    std::vector<size_t> reverse_start_;  // CSR of reverse edges (N+1), for the graph search
    std::vector<int32_t> reverse_;
    std::unique_ptr<Forest> first_tree_;  // query entry points
    Matrix sketch_;                       // d'×64 Gaussian, empty when d' ≤ 64
    NNDescentOptions options_;
    NNDescentDetails details_;
};

}  // namespace promptlens
