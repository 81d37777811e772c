// Mean silhouette coefficient (scikit-learn 1.2.1 `silhouette_score`, Euclidean): for each row,
// a = mean distance to the other members of its cluster, b = smallest mean distance to another
// cluster, s = (b − a) / max(a, b), and a member of a singleton cluster scores 0. With
// N > max_samples a seeded sample of max_samples rows is scored on its own (sklearn's
// `sample_size`): distances, cluster sizes and the set of clusters all come from the sample.
// Cost: sample² × d through blocked GEMM; memory stays O(block × tile).
#pragma once

#include <cstdint>
#include <span>

#include "core/matrix.hpp"
#include "metrics/sampled_score.hpp"

namespace promptlens {

// x is N×d, labels has N entries (any non-negative ids; need 2 ≤ distinct ≤ rows scored − 1).
// max_samples = 0 scores every row.
SampledScore silhouette_score(ConstMatView x, std::span<const int32_t> labels, size_t max_samples,
                              uint64_t seed, int threads = 1);

namespace reference {
// Full pairwise double loop over all rows (no sampling), for tests.
double silhouette_score(ConstMatView x, std::span<const int32_t> labels);
}  // namespace reference

}  // namespace promptlens
