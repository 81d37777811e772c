// t-SNE input affinities P with scikit-learn 1.2.1 semantics (`TSNE(method="barnes_hut")`, i.e.
// `_joint_probabilities_nn`): each row's k = min(N−1, ⌊3·perplexity + 1⌋) nearest neighbours
// (squared Euclidean distances, rounded to float32 as sklearn does), a per-row binary search for
// the Gaussian precision β_i whose conditional distribution p_{j|i} ∝ exp(−β_i·d²_ij) has entropy
// log(perplexity) nats (sklearn's `_binary_search_perplexity`: β starts at 1, doubles / halves
// until bracketed, then bisects; |H − log(perplexity)| ≤ 1e-5 or 100 steps), then
// P = (P_cond + P_condᵀ) / Σ, a sparse symmetric matrix summing to 1, stored as CSR in double.
//
// The neighbour search sits behind `tsne_knn` (metrics/neighbor_index.hpp: exact brute force up to
// 10,000 rows, NN-descent above, unless a method is forced). It only supplies the neighbour ids;
// the distances are recomputed here directly (float differences, double sums) so that no GEMM
// cancellation reaches the calibration. Rows are processed in fixed chunks: the result is identical
// for every thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/matrix.hpp"
#include "metrics/neighbor_index.hpp"
#include "metrics/neighbors.hpp"

namespace promptlens {

// Sparse n×n matrix in compressed sparse row form, column indices sorted within each row.
struct CsrMatrix {
    size_t n = 0;
    std::vector<int64_t> indptr;   // n + 1 offsets into indices / values
    std::vector<int32_t> indices;  // nnz column indices
    std::vector<double> values;    // nnz values
    size_t nnz() const { return indices.size(); }
};

// euclidean: squared Euclidean distances (sklearn's default). cosine: sklearn's metric="cosine",
// whose kNN distances 1 − cos are squared like the Euclidean ones: rows are L2-normalised, the
// neighbours found by Euclidean distance (same order as cosine distance) and each squared
// distance e = ‖u_i − u_j‖² = 2(1 − cos) replaced by (e/2)² = (1 − cos)². Zero rows are refused.
enum class TsneMetric { euclidean, cosine };
const char* to_string(TsneMetric metric);

struct TsneAffinities {
    CsrMatrix p;               // symmetric, Σ p_ij = 1, zero diagonal
    size_t neighbors = 0;      // k used for every row
    std::vector<double> beta;  // N precisions β_i = 1/(2σ_i²) found by the search
    // Rows whose search stopped after 100 steps without reaching the tolerance (e.g. a row whose
    // k neighbours are all at distance 0: every β gives the entropy log k). Their P is finite.
    size_t rows_not_converged = 0;
    double mean_sigma = 0;  // sqrt(N / Σβ), the number sklearn's verbose mode prints
};

// Number of neighbours per row: min(n − 1, int(3·perplexity + 1)).
size_t tsne_neighbor_count(size_t n, double perplexity);

// The neighbour search t-SNE uses: the k nearest other rows of every row of x (N×d), by
// make_neighbor_index (`method`; automatic = exact up to 10,000 rows, NN-descent seeded by `seed`
// above).
Neighbors tsne_knn(ConstMatView x, size_t k, int threads,
                   NeighborMethod method = NeighborMethod::automatic, uint64_t seed = 0);

// Squared Euclidean distances ‖x_i − x_nbr(i,c)‖², rounded to float32: x is N×d, neighbors N×k
// row-major ids, the result N×k.
Matrix tsne_neighbor_sq_distances(ConstMatView x, std::span<const int32_t> neighbors, size_t k,
                                  int threads);

// sklearn's `_binary_search_perplexity` on squared distances sq (N×k): the conditional
// probabilities (N×k, rows sum to 1) in the same order as sq. Writes β per row when `beta` is
// non-null (N entries) and counts rows that did not reach the tolerance.
MatrixD binary_search_perplexity(MatrixView<const float> sq, double perplexity, int threads,
                                 std::span<double> beta = {}, size_t* rows_not_converged = nullptr);

// sklearn's `_joint_probabilities_nn`: neighbors (N×k ids, no self) and their squared distances
// (N×k) → symmetric P. Each row is first put in column order, as sklearn's sort_indices() does
// before its search, so sums run in the same order.
TsneAffinities joint_probabilities_nn(std::span<const int32_t> neighbors,
                                      MatrixView<const float> sq, double perplexity, int threads);

// The whole input stage: checks, kNN, distances (metric), search, symmetrisation. x is N×d.
TsneAffinities tsne_affinities(ConstMatView x, double perplexity, TsneMetric metric, int threads,
                               NeighborMethod neighbors = NeighborMethod::automatic,
                               uint64_t seed = 0);

// Checks sklearn makes before any work (perplexity > 0 and < N − 1, N ≥ 3); throws Error.
void check_tsne_perplexity(size_t n, double perplexity);

}  // namespace promptlens
