// Squared Euclidean distances between a block of query rows and a range of data rows, the one
// kernel under every metric here (k-NN, silhouette, trustworthiness). Two paths, chosen by the
// dimension only (so never by thread count):
//   - few columns (≤ kDirectMaxDims, e.g. 2-D embeddings): Σ (q−x)² directly in double: exact to
//     double rounding, like scikit-learn's KD-tree on 2-D data;
//   - otherwise float32 GEMM: ‖q‖² + ‖x‖² − 2 q·x, with the norms in double and the result
//     clamped at 0. Callers centre the data first (see `centered_rows`), which removes the
//     cancellation a large common offset would cause.
// Also the small helpers every metric shares: finite-value checks and seeded row samples.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/matrix.hpp"

namespace promptlens {

inline constexpr size_t kDirectMaxDims = 8;

// Row-wise ‖x_i‖² in double. x is N×d.
std::vector<double> sq_norms(ConstMatView x);

// Computes tiles of squared distances between fixed queries (Q×d) and data (N×d). Holds the
// GEMM scratch: use one per query block (not thread-safe to share).
class SqDistanceTiles {
  public:
    // q_norms / data_norms: sq_norms of each (only read on the GEMM path; may be empty when
    // d ≤ kDirectMaxDims). The views must outlive this object.
    SqDistanceTiles(ConstMatView queries, std::span<const double> q_norms, ConstMatView data,
                    std::span<const double> data_norms);
    // out(i, j - begin) = ‖q_i − data_j‖² for j in [begin, end); out is Q×(end−begin).
    void tile(size_t begin, size_t end, MatrixView<double> out);

  private:
    ConstMatView q_, data_;
    std::span<const double> qn_, dn_;
    std::vector<float> scratch_;
};

// ‖a − b‖² in double from float rows of length d, summed in 8 interleaved partial sums (AVX-512 /
// AVX2 / baseline clones, all with the same bits); every exact distance here (references, t-SNE's
// P, UMAP's neighbour lists) uses this one function.
double exact_sq_distance(const float* a, const float* b, size_t d);

// Plain double loop reference: out (Q×N) = ‖q_i − x_j‖².
void reference_sq_distances(ConstMatView queries, ConstMatView data, MatrixView<double> out);

// A copy of rows (all rows when `rows` is empty) minus their column mean (double accumulation,
// rounded to float); distances between rows are unchanged.
Matrix centered_rows(ConstMatView x, std::span<const size_t> rows = {});

// Throws unless every value is finite, naming the first bad row and column.
void require_finite(ConstMatView x, const char* what);

// m distinct row indices out of [0, n), sorted ascending, drawn with a seeded partial
// Fisher–Yates shuffle (the same seed gives the same sample everywhere). m ≥ n gives all rows.
std::vector<size_t> sample_rows(size_t n, size_t m, uint64_t seed);

}  // namespace promptlens
