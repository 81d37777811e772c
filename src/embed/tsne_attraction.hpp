// The attractive half of the t-SNE gradient: for each row i of the sparse affinities P,
//   a_i = Σ_j e·p_ij · w_ij · (y_i − y_j),   w_ij = 1 / (1 + ‖y_i − y_j‖²),
// over the stored entries of row i (e = the exaggeration). It is one of the two costs of every
// iteration (the repulsion is the other): a random read of y_j and a division per entry of P,
// about 140 entries a row at perplexity 30.
//
// The fast path sums each row's entries in eight lanes (entry t of the row goes to lane t mod 8)
// and adds the lanes in a fixed tree, so its AVX-512 version (gathers, one vector division per
// eight entries) and its portable version give the same bits; the reference sums entry by entry.
// Neither depends on the thread count: rows are independent.
#pragma once

#include <cstddef>
#include <span>

#include "embed/tsne_affinity.hpp"

namespace promptlens {

// The Student-t kernel of the embedding, w = 1 / (1 + ‖a − b‖²), a and b of `dims` coordinates.
inline double tsne_kernel(const double* a, const double* b, size_t dims) {
    double d2 = 0;
    for (size_t c = 0; c < dims; ++c) d2 += (a[c] - b[c]) * (a[c] - b[c]);
    return 1.0 / (1.0 + d2);
}

// Writes a_i for rows [begin, end) of P to attr (row-major, (end − begin) × dims), y is N×dims.
// dims 1 to 8. Uses AVX-512 where the CPU has it and dims == 2.
void tsne_attraction(const CsrMatrix& p, double exaggeration, std::span<const double> y,
                     size_t dims, size_t begin, size_t end, double* attr);

// The same eight-lane sums without SIMD: equal bits to tsne_attraction (the oracle of its AVX-512
// path in tests).
void tsne_attraction_portable(const CsrMatrix& p, double exaggeration, std::span<const double> y,
                              size_t dims, size_t begin, size_t end, double* attr);

namespace reference {
// Entry by entry, in stored order: the plain definition.
void tsne_attraction(const CsrMatrix& p, double exaggeration, std::span<const double> y,
                     size_t dims, size_t begin, size_t end, double* attr);
}  // namespace reference

}  // namespace promptlens
