// umap_curve: a and b against umap-learn's find_ab_params (scipy curve_fit).
#include <gtest/gtest.h>

#include <cmath>

#include "embed/umap_curve.hpp"
#include "test_umap_golden.hpp"

namespace promptlens {
namespace {

TEST(UmapCurve, MatchesUmapLearn) {
    // scipy's Levenberg–Marquardt stops at ftol = xtol = 1.49e-8 with a forward-difference
    // Jacobian; ours iterates to the minimum with the exact one. Both sit at the same least-squares
    // minimum to ~1e-7 relative; 1e-5 leaves room for scipy's early stop on flat fits.
    const char* cases[] = {"1.0_0.1", "1.0_0.0", "1.0_0.5", "2.0_0.5", "0.5_0.01", "1.5_1.0"};
    for (const std::string name : cases) {
        const double spread = std::stod(name), min_dist = std::stod(name.substr(4));
        const auto& ref = test::umap_golden().get("ab_" + name);
        UmapCurve c = fit_umap_curve(spread, min_dist);
        EXPECT_TRUE(c.converged) << spread << " " << min_dist;
        EXPECT_NEAR(c.a, ref[0], 1e-5 * ref[0]) << spread << " " << min_dist;
        EXPECT_NEAR(c.b, ref[1], 1e-5 * ref[1]) << spread << " " << min_dist;
    }
}

TEST(UmapCurve, RejectsBadParameters) {
    EXPECT_NE(test::error_of([] { fit_umap_curve(0.0, 0.1); }).find("spread"), std::string::npos);
    EXPECT_NE(test::error_of([] { fit_umap_curve(1.0, -1.0); }).find("min_dist"),
              std::string::npos);
}

}  // namespace
}  // namespace promptlens
