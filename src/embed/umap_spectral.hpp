// UMAP's spectral initialisation (umap-learn 0.5 `spectral_layout`): the eigenvectors 2..dim+1
// of the normalised Laplacian L = I − D^(−1/2)·W·D^(−1/2) of the fuzzy graph W (smallest
// eigenvalues, the first one — √degree, eigenvalue 0 — skipped). umap-learn calls ARPACK (eigsh,
// tol 1e-4); here the same vectors are the top eigenvectors of the PSD operator
//   C = (P·(I + D^(−1/2)·W·D^(−1/2))·P / 2)^4,   P = I − u₀u₀ᵀ, u₀ = √degree / ‖√degree‖,
// found by block Krylov iteration (linalg/block_krylov.hpp) with sparse products only; the 4th
// power stretches the gaps near the top so a Krylov space of bounded memory suffices. Ritz vectors
// that miss the tolerance are still used (an initialisation need not be exact) and the result
// says so. Graphs with several connected components are laid out per component as umap-learn
// does: component positions (±unit vectors for ≤ 2·dim components, else the centroids' top
// principal axes — umap-learn spectrally embeds the centroids there), each component's own
// spectral layout scaled into half the distance to its nearest neighbour component; components
// too small for that get uniform random positions there. Any fallback to random initialisation
// is recorded in `note`, which callers print.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/matrix.hpp"
#include "embed/umap_graph.hpp"

namespace promptlens {

struct SpectralInit {
    Matrix embedding;           // N×dim, unscaled (umap-learn scales it to max |x| = 10 later)
    size_t components = 0;      // connected components of the graph
    bool converged = true;      // every component's eigensolver met the tolerance
    double worst_residual = 0;  // largest relative Ritz residual over components
    size_t products = 0;        // operator products over all components
    std::vector<int32_t> component;  // N: component id of each row (ids by first row)
    std::string note;                // non-empty when something was approximated or fell back
};

// Connected components of a symmetric graph; ids numbered by their smallest row.
std::vector<int32_t> connected_components(const SparseGraph& g, size_t* count);

// data is the N×d input (for component centroids; may be empty, then random positions).
SpectralInit umap_spectral_init(const SparseGraph& g, size_t dim, ConstMatView data, uint64_t seed,
                                int threads);

namespace reference {
// Dense LAPACK eigenvectors 2..dim+1 of the normalised Laplacian of a connected graph (N×dim);
// for tests on small graphs.
MatrixD spectral_layout_dense(const SparseGraph& g, size_t dim);
}  // namespace reference

}  // namespace promptlens
