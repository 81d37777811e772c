// k-nearest-neighbour search behind one small interface, so an approximate index (HNSW, NN-descent)
// can later replace the exact one without touching its callers (k-NN accuracy, trustworthiness,
// UMAP's graph). `ExactNeighbors` is the brute-force index: squared Euclidean distances in fixed
// blocks (256 queries × 2,048 data rows, GEMM or direct, see distances.hpp), parallel over query
// blocks, each query's list sorted by (distance, index) — ties go to the lower index — so results
// are identical for every thread count. `reference::knn` is the plain double loop that tests use
// as the oracle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/matrix.hpp"

namespace promptlens {

struct Neighbors {  // queries × k, each row sorted by (distance, index)
    size_t queries = 0, k = 0;
    std::vector<int32_t> index;   // queries×k, row-major: rows of the indexed data
    std::vector<float> distance;  // queries×k Euclidean distances (not squared)
    std::span<const int32_t> of(size_t q) const { return {index.data() + q * k, k}; }
    std::span<const float> distances_of(size_t q) const { return {distance.data() + q * k, k}; }
};

class NeighborIndex {
  public:
    virtual ~NeighborIndex() = default;
    virtual size_t size() const = 0;  // number of indexed rows
    virtual size_t dims() const = 0;
    // queries is Q×dims(). `exclude` is empty (no exclusion) or has Q entries: the indexed row
    // to leave out of query q's list (its own row when the queries are indexed points), -1 for
    // none. Needs k ≤ size() − (1 if that query excludes a row).
    virtual Neighbors search(ConstMatView queries, size_t k, std::span<const int64_t> exclude,
                             int threads) const = 0;
};

// Exact search. Keeps a view of `data` (N×d): it must outlive the index.
class ExactNeighbors final : public NeighborIndex {
  public:
    explicit ExactNeighbors(ConstMatView data);
    size_t size() const override { return data_.rows(); }
    size_t dims() const override { return data_.cols(); }
    Neighbors search(ConstMatView queries, size_t k, std::span<const int64_t> exclude,
                     int threads) const override;

  private:
    ConstMatView data_;
    std::vector<double> norms_;  // ‖x_j‖², for the GEMM path
};

// Every indexed row's k nearest other rows: `data` must be the indexed data (N×d), row i
// excludes itself.
Neighbors self_neighbors(const NeighborIndex& index, ConstMatView data, size_t k, int threads);

namespace reference {
// Brute-force double loop, double distances, sorted by (distance, index).
Neighbors knn(ConstMatView data, ConstMatView queries, size_t k, std::span<const int64_t> exclude);
}  // namespace reference

}  // namespace promptlens
