// The repulsive half of the t-SNE gradient, the part that touches every pair of points. With the
// Student-t kernel w_ij = 1 / (1 + ‖y_i − y_j‖²) and Z = Σ_{k≠l} w_kl, the KL gradient is
//   ∂C/∂y_i = 4 [ Σ_j p_ij w_ij (y_i − y_j)  −  (1/Z) Σ_j w_ij² (y_i − y_j) ].
// The first (attractive) sum runs over the sparse P and lives with the optimiser (tsne.hpp). The
// second is computed here by one of three methods that share this contract:
//  * exact: the O(N²) double loop, the oracle for tests and small N;
//  * Barnes-Hut (van der Maaten 2014, θ = 0.5 as in scikit-learn): a quadtree, O(N log N);
//  * FFT-accelerated interpolation (FIt-SNE, Linderman et al. 2019): the kernels are interpolated
//    on an equispaced grid and convolved with FFTW, O(N + grid log grid) — the default for large N.
// Every method returns the UNNORMALISED repulsion r_i = Σ_{j≠i} w_ij² (y_i − y_j) and Z, so the
// optimiser computes the gradient, the KL divergence and the normalisation the same way whichever
// method ran. Results are identical for every thread count (fixed chunks, summed in chunk order).
#pragma once

#include <cstddef>
#include <span>

namespace promptlens {

enum class TsneRepulsionMethod { exact, barnes_hut, fft };

struct TsneRepulsionOptions {
    TsneRepulsionMethod method = TsneRepulsionMethod::fft;
    double theta = 0.5;  // Barnes-Hut: a cell of width w at distance d is one point when w/d < θ
    // FFT interpolation (FIt-SNE's defaults): Lagrange nodes per interval, smallest number of
    // intervals per dimension, and the width of an interval never exceeds `interval_width_max`
    // embedding units (so the grid grows with the embedding's extent).
    int interpolation_points = 3;
    int min_intervals = 50;
    double interval_width_max = 1.0;
    int threads = 0;  // 0: all hardware threads
};

// y is N×dims row-major (dims = 2 for Barnes-Hut and FFT; 1 also for FFT; any for exact).
// Writes rep (N×dims, overwritten) and returns Z.
double tsne_repulsion(std::span<const double> y, size_t n, size_t dims, std::span<double> rep,
                      const TsneRepulsionOptions& options);

namespace reference {
// The plain O(N²) loop in double: the oracle every method is tested against.
double tsne_repulsion_exact(std::span<const double> y, size_t n, size_t dims,
                            std::span<double> rep);
}  // namespace reference

}  // namespace promptlens
