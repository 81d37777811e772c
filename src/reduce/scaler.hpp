// StandardScaler with scikit-learn semantics: subtract the column mean, divide by the population
// standard deviation (ddof 0); a column whose variance is zero (to rounding) is divided by 1.
#pragma once

#include <vector>

#include "core/matrix.hpp"

namespace promptlens {

struct StandardScaler {
    std::vector<double> mean;   // per column
    std::vector<double> scale;  // per column: the std, or 1 for a constant column

    // Column statistics in double, accumulated over fixed row blocks (thread-count independent).
    static StandardScaler fit(ConstMatView x, int threads = 1);
    void transform_inplace(MatView x, int threads = 1) const;
    Matrix transform(ConstMatView x, int threads = 1) const;
};

}  // namespace promptlens
