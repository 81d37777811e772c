// Trustworthiness of an embedding (scikit-learn 1.2.1 `sklearn.manifold.trustworthiness`,
// Euclidean): for each query row i, its k nearest neighbours in the embedding are looked up in
// the original space, where j is the r(i,j)-th nearest neighbour of i; T = 1 − 2/(M·k·(2N−3k−1))
// · Σ_i Σ_j max(0, r(i,j) − k) over M query rows. Exact (M = N, every row a query) when
// N ≤ max_samples (or max_samples = 0); otherwise a seeded sample of M = max_samples query rows,
// each still ranked against all N rows — the estimate is unbiased for the full score.
// Memory: one block of 64 full distance rows per thread, never N². Ranks are exact: float32
// GEMM distances come with a rigorous error bound and only the few candidates within it of a
// threshold are recomputed in double (the comparisons sklearn makes on float64 distances).
// Rank ties (equal original distances) are broken by row index, like a stable sort.
#pragma once

#include <cstdint>

#include "core/matrix.hpp"
#include "core/progress.hpp"
#include "metrics/sampled_score.hpp"

namespace promptlens {

// high is N×D (original space), low is N×d (embedding); needs 1 ≤ k < N/2.
SampledScore trustworthiness(ConstMatView high, ConstMatView low, size_t k, size_t max_samples,
                             uint64_t seed, int threads = 1,
                             const ProgressCallback& progress = {});  // counts query rows

namespace reference {
// Full argsort over every row, in double, stable (ties by index); for tests.
double trustworthiness(ConstMatView high, ConstMatView low, size_t k);
}  // namespace reference

}  // namespace promptlens
