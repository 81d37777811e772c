// UMAP's low-dimensional similarity curve q(d) = 1 / (1 + a·d^(2b)), with a and b fitted so that
// q best matches (least squares on 300 points of [0, 3·spread]) the offset exponential
//   ψ(d) = 1 for d < min_dist,  exp(−(d − min_dist) / spread) otherwise,
// as umap-learn 0.5's `find_ab_params` does with scipy's curve_fit (Levenberg–Marquardt from
// a = b = 1). Here: Levenberg–Marquardt in double with the analytic Jacobian, iterated to the
// minimum (scipy stops at ftol = xtol = 1.49e-8, so the two agree to about 1e-6 relative).
#pragma once

#include <cstddef>

namespace promptlens {

struct UmapCurve {
    double a = 0, b = 0;
    size_t iterations = 0;  // accepted or rejected LM steps taken
    double residual = 0;    // Σ (q(x_i) − ψ(x_i))² at (a, b)
    bool converged = false;
};

// Needs spread > 0 and 0 ≤ min_dist; throws otherwise.
UmapCurve fit_umap_curve(double spread, double min_dist);

}  // namespace promptlens
