// k-nearest-neighbour search behind one small interface, so the approximate index (NN-descent,
// nn_descent.hpp) replaces the exact one without touching its callers (k-NN accuracy,
// trustworthiness, t-SNE's P matrix, UMAP's graph); neighbor_index.hpp picks one. `ExactNeighbors`
// is the brute-force index: squared Euclidean distances in fixed blocks (256 queries × 2,048 data
// rows, GEMM or direct, see distances.hpp), parallel over query blocks, each query's list sorted by
// (distance, index) — ties go to the lower index — so results are identical for every thread
// count. `reference::knn` is the plain double loop that tests use as the oracle.
//
// Metrics: Euclidean, and cosine distance 1 − cos(x, y) (scikit-learn's / umap-learn's "cosine").
// Cosine is computed as Euclidean on `cosine_rows`: each row divided by its L2 norm, plus one extra
// column that is 1 for a zero row and 0 otherwise, so ‖x̂ − ŷ‖² = 2 − 2 cos and the distance is
// ‖x̂ − ŷ‖²/2. A zero row therefore has cosine similarity 0 (distance 1) with every non-zero row
// and distance 0 to other zero rows (pynndescent's convention).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/matrix.hpp"

namespace promptlens {

enum class Metric { euclidean, cosine };
const char* metric_name(Metric m);

struct Neighbors {  // queries × k, each row sorted by (distance, index)
    size_t queries = 0, k = 0;
    std::vector<int32_t> index;   // queries×k, row-major: rows of the indexed data
    std::vector<float> distance;  // queries×k: Euclidean (not squared) or 1 − cos
    std::span<const int32_t> of(size_t q) const { return {index.data() + q * k, k}; }
    std::span<const float> distances_of(size_t q) const { return {distance.data() + q * k, k}; }
};

class NeighborIndex {
  public:
    virtual ~NeighborIndex() = default;
    virtual size_t size() const = 0;  // number of indexed rows
    virtual size_t dims() const = 0;
    virtual Metric metric() const = 0;
    // queries is Q×dims(). `exclude` is empty (no exclusion) or has Q entries: the indexed row
    // to leave out of query q's list (its own row when the queries are indexed points), -1 for
    // none. Needs k ≤ size() − (1 if that query excludes a row).
    virtual Neighbors search(ConstMatView queries, size_t k, std::span<const int64_t> exclude,
                             int threads) const = 0;
};

// Exact search. Euclidean keeps a view of `data` (N×d): it must outlive the index; cosine keeps
// its own `cosine_rows` copy.
class ExactNeighbors final : public NeighborIndex {
  public:
    explicit ExactNeighbors(ConstMatView data, Metric metric = Metric::euclidean);
    size_t size() const override { return data_.rows(); }
    size_t dims() const override { return dims_; }
    Metric metric() const override { return metric_; }
    Neighbors search(ConstMatView queries, size_t k, std::span<const int64_t> exclude,
                     int threads) const override;

  private:
    Metric metric_;
    size_t dims_;
    Matrix owned_;  // cosine_rows(data) for cosine, empty for Euclidean
    ConstMatView data_;
    std::vector<double> norms_;  // ‖x_j‖², for the GEMM path
};

// Rows scaled to unit L2 norm (in double, rounded to float), plus a last column: 1 for a zero row,
// 0 otherwise. x is N×d, the result N×(d+1). See the metric note at the top.
Matrix cosine_rows(ConstMatView x);

// Euclidean squared distance → the metric's distance: √d² (Euclidean) or d²/2 (cosine on
// cosine_rows).
inline double distance_from_sq(Metric m, double d2) {
    return m == Metric::euclidean ? std::sqrt(d2) : 0.5 * d2;
}

// Throws unless queries (Q×d_data) and k, exclude fit an index of n_data rows (see search()).
void check_neighbor_request(size_t n_data, size_t d_data, ConstMatView queries, size_t k,
                            std::span<const int64_t> exclude);

// Every indexed row's k nearest other rows: `data` must be the indexed data (N×d), row i
// excludes itself.
Neighbors self_neighbors(const NeighborIndex& index, ConstMatView data, size_t k, int threads);

namespace reference {
// Brute-force double loop, double distances, sorted by (distance, index). Cosine: 1 − x·y/(‖x‖‖y‖)
// in double, with the zero-row convention above.
Neighbors knn(ConstMatView data, ConstMatView queries, size_t k, std::span<const int64_t> exclude,
              Metric metric = Metric::euclidean);
}  // namespace reference

}  // namespace promptlens
