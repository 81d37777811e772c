#include "embed/umap_curve.hpp"

#include <cmath>
#include <vector>

#include "core/error.hpp"

namespace promptlens {
namespace {

struct Point {
    double x, y;
};

// Sum of squared residuals, and (when j is given) JᵀJ (2×2, symmetric) and Jᵀr.
double evaluate(const std::vector<Point>& pts, double a, double b, double jtj[3] = nullptr,
                double jtr[2] = nullptr) {
    double cost = 0;
    if (jtj) jtj[0] = jtj[1] = jtj[2] = jtr[0] = jtr[1] = 0;
    for (const Point& p : pts) {
        // x^(2b); 0 at x = 0 (b > 0 near the solution; umap's curve has the same convention).
        const double lx = p.x > 0 ? std::log(p.x) : 0;
        const double t = p.x > 0 ? std::exp(2 * b * lx) : 0;
        const double den = 1 + a * t;
        const double r = 1 / den - p.y;
        cost += r * r;
        if (jtj) {
            const double da = -t / (den * den);
            const double db = -a * t * 2 * lx / (den * den);
            jtj[0] += da * da;
            jtj[1] += da * db;
            jtj[2] += db * db;
            jtr[0] += da * r;
            jtr[1] += db * r;
        }
    }
    return cost;
}

}  // namespace

UmapCurve fit_umap_curve(double spread, double min_dist) {
    require(spread > 0 && std::isfinite(spread), "UMAP: spread must be > 0 (got {})", spread);
    require(min_dist >= 0 && std::isfinite(min_dist), "UMAP: min_dist must be ≥ 0 (got {})",
            min_dist);
    // np.linspace(0, 3·spread, 300) and the target ψ.
    std::vector<Point> pts(300);
    for (size_t i = 0; i < pts.size(); ++i) {
        const double x = (i == 299) ? 3 * spread : 3 * spread * static_cast<double>(i) / 299.0;
        pts[i] = {x, x < min_dist ? 1.0 : std::exp(-(x - min_dist) / spread)};
    }
    UmapCurve c;
    double a = 1, b = 1, lambda = 1e-3;
    double jtj[3], jtr[2];
    double cost = evaluate(pts, a, b, jtj, jtr);
    for (c.iterations = 0; c.iterations < 500; ++c.iterations) {
        // (JᵀJ + λ·diag(JᵀJ))·δ = −Jᵀr, solved directly (2×2).
        const double m00 = jtj[0] * (1 + lambda), m11 = jtj[2] * (1 + lambda), m01 = jtj[1];
        const double det = m00 * m11 - m01 * m01;
        if (!(det > 0)) {
            lambda *= 10;
            continue;
        }
        const double da = -(m11 * jtr[0] - m01 * jtr[1]) / det;
        const double db = -(m00 * jtr[1] - m01 * jtr[0]) / det;
        const double new_cost = evaluate(pts, a + da, b + db);
        if (new_cost <= cost) {
            a += da;
            b += db;
            const bool tiny =
                std::fabs(da) <= 1e-13 * std::fabs(a) && std::fabs(db) <= 1e-13 * std::fabs(b);
            const bool flat = cost - new_cost <= 1e-15 * cost;
            cost = evaluate(pts, a, b, jtj, jtr);
            lambda = std::max(lambda / 10, 1e-12);
            if (tiny || flat) {
                c.converged = true;
                ++c.iterations;
                break;
            }
        } else {
            lambda *= 10;
            if (lambda > 1e12) {  // no descent direction left: at the minimum to rounding
                c.converged = true;
                break;
            }
        }
    }
    require(std::isfinite(a) && std::isfinite(b) && a > 0 && b > 0,
            "UMAP: fitting the curve for spread {} and min_dist {} failed (a = {}, b = {})", spread,
            min_dist, a, b);
    c.a = a;
    c.b = b;
    c.residual = cost;
    return c;
}

}  // namespace promptlens
