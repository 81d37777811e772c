// UMAP's stochastic gradient descent (umap-learn 0.5 `optimize_layout_euclidean`): each edge
// (j, k) of the fuzzy graph is sampled every epochs_per_sample = max_w / w epochs; a sample pulls
// j and k together with the gradient of log q(d) = −log(1 + a·d^(2b)), then pushes j away from
// negative_sample_rate uniformly drawn rows with the gradient of log(1 − q) (plus 0.001 in the
// denominator, coincident rows pushed by 4), every coordinate step clipped to ±4, the learning
// rate decaying linearly to 0.
//
// Two schedules, both a pure function of the seed (no thread-count dependence):
//   - serial: umap-learn's loop as written, edges in CSR order, both ends moved, one RNG stream.
//     The plain reference.
//   - parallel (default): rows are owned by fixed blocks of 256 rows; within an epoch a block
//     moves only its own rows, applying each of their edges' samples in order against a snapshot
//     of every other row taken at the start of the epoch. The pull that umap-learn gives the
//     tail of (j, k) is applied when the symmetric edge (k, j) is processed (the fuzzy graph is
//     symmetric, and the two are sampled at the same epochs), so each end gets its two pulls as
//     in umap-learn. Negative samples are a hash of (seed, epoch, edge, draw), so each row's
//     samples depend on nothing else; eight rows of a block advance in lockstep (their
//     dependency chains overlap in the CPU). Blocks run in any order on any number of threads
//     with identical bytes out.
// umap-learn's own parallel mode is Hogwild (racy, unseeded); with a seed it runs serially.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/matrix.hpp"
#include "core/rng.hpp"
#include "embed/umap_graph.hpp"

namespace promptlens {

enum class UmapSchedule { parallel, serial };

struct UmapLayoutOptions {
    size_t epochs = 200;          // n_epochs (umap: 500 for ≤ 10,000 rows, else 200)
    double a = 1.577, b = 0.895;  // the curve (umap_curve.hpp); defaults: spread 1, min_dist 0.1
    double gamma = 1.0;           // repulsion_strength: weight of the negative samples
    double learning_rate = 1.0;   // initial alpha, decays linearly to 0
    double negative_sample_rate = 5.0;  // negatives per positive sample
    bool move_other = true;             // false for transform (the tails are a fixed embedding)
    UmapSchedule schedule = UmapSchedule::parallel;
    uint64_t seed = 0;
    int threads = 1;
};

// The SGD state: build it, then call run_epoch() `epochs` times (or run()). Steppable so callers
// can report progress and stop early.
class UmapSgd {
  public:
    // head is N×dim (updated in place), tail is M×dim: the same matrix for a fit (move_other),
    // the fitted embedding for transform. `graph` is N×M, already pruned (prune_graph). Views
    // must outlive this object.
    UmapSgd(MatView head, ConstMatView tail, const SparseGraph& graph,
            const UmapLayoutOptions& options);

    void run_epoch();
    size_t epoch() const { return epoch_; }
    bool done() const { return epoch_ >= options_.epochs; }
    size_t edges() const { return tail_index_.size(); }
    // The expected loss that the sampling minimises, per unit edge weight:
    // [Σ w·(−log q) + γ·rate·Σ w · mean over a fixed set of 4,096 random pairs of −log(1 − q)] / Σ
    // w, the edge sums over all edges up to 16,384 and over a fixed seeded sample of 16,384 above
    // (an estimate: the objective is a progress signal, and the full sum cost as much as an epoch).
    double objective() const;

  private:
    void epoch_serial(float alpha);
    void epoch_parallel(float alpha);
    template <size_t kDim>  // 0: any dimension
    void epoch_parallel_dim(float alpha);

    MatView head_;
    ConstMatView tail_;
    UmapLayoutOptions options_;
    float a_, b_;
    std::vector<int64_t> row_ptr_;  // N + 1: edges of head row i are [row_ptr_[i], row_ptr_[i+1])
    std::vector<int32_t> tail_index_;
    std::vector<float> weight_;
    std::vector<double> epochs_per_sample_, next_sample_, epochs_per_negative_, next_negative_;
    std::vector<std::pair<int32_t, int32_t>> objective_pairs_;
    std::vector<std::pair<int32_t, int64_t>> objective_edges_;  // (head row, edge)
    Matrix snapshot_;
    size_t epoch_ = 0;
    Rng serial_rng_;  // the serial schedule's one stream
};

}  // namespace promptlens
