// The result type shared by scores that may be computed on a seeded row sample when N is large
// (silhouette, trustworthiness).
#pragma once

#include <cstddef>

namespace promptlens {

struct SampledScore {
    double value = 0;
    size_t sample_size = 0;  // rows scored (N when not sampled)
    bool sampled = false;    // true when a seeded sample of max_samples rows was scored
};

}  // namespace promptlens
