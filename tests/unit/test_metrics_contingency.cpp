// Contingency table, purity, majority and matched accuracy, ARI, NMI against scikit-learn 1.2.1
// (tools/golden_metrics.py) and scipy's linear_sum_assignment.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "metrics/contingency.hpp"
#include "metrics/matching.hpp"
#include "test_metrics_golden.hpp"

namespace promptlens {
namespace {

// Counts are integers and every score is a handful of double operations on them: sklearn and we
// differ only by the order of a few float sums, so 1e-12 absolute is ample and still catches any
// formula slip.
constexpr double kAtol = 1e-12;

size_t n_of(const std::vector<int32_t>& v) {
    return static_cast<size_t>(*std::max_element(v.begin(), v.end())) + 1;
}

TEST(MetricsContingency, DigitsKMeansMatchesSklearn) {
    const auto& g = test::metrics_golden();
    const Contingency t = contingency(g.clusters, 10, g.labels, 10);
    EXPECT_EQ(t.total(), 1797);
    std::vector<double> counts(t.counts.begin(), t.counts.end());
    EXPECT_TRUE(test::all_close(counts, g.get("contingency"), 0, 0));
    const MatrixD p = purity_table(t);
    EXPECT_TRUE(test::all_close(p.values(), g.get("purity_table"), kAtol, 0));
    EXPECT_NEAR(majority_accuracy(t), g.scalar("majority_accuracy"), kAtol);
    EXPECT_NEAR(matched_accuracy(t).accuracy, g.scalar("matched_accuracy"), kAtol);
    EXPECT_NEAR(adjusted_rand_index(t), g.scalar("ari"), kAtol);
    EXPECT_NEAR(normalized_mutual_info(t), g.scalar("nmi"), kAtol);
}

TEST(MetricsContingency, UnequalShapesMatchScipyAndSklearn) {
    const auto& g = test::metrics_golden();
    for (const std::string name : {"u3x2", "u5x3", "u2x4"}) {
        SCOPED_TRACE(name);
        const auto cl = g.ints(name + "_clusters"), lab = g.ints(name + "_classes");
        const Contingency t = contingency(cl, n_of(cl), lab, n_of(lab));
        const Matching m = matched_accuracy(t);
        EXPECT_NEAR(m.accuracy, g.scalar(name + "_matched_accuracy"), kAtol);
        EXPECT_NEAR(adjusted_rand_index(t), g.scalar(name + "_ari"), kAtol);
        EXPECT_NEAR(normalized_mutual_info(t), g.scalar(name + "_nmi"), kAtol);
        // One-to-one: min(clusters, classes) clusters matched, to distinct classes.
        std::vector<int32_t> used;
        for (int32_t c : m.class_of_cluster)
            if (c >= 0) used.push_back(c);
        EXPECT_EQ(used.size(), std::min(t.clusters, t.classes));
        std::sort(used.begin(), used.end());
        EXPECT_EQ(std::adjacent_find(used.begin(), used.end()), used.end());
    }
}

// Hungarian vs exhaustive search over all injective maps on small random tables.
TEST(MetricsContingency, AssignmentMatchesBruteForce) {
    Rng rng(11);
    for (int trial = 0; trial < 200; ++trial) {
        const size_t r = 1 + rng.below(5), c = 1 + rng.below(5);
        std::vector<int64_t> w(r * c);
        for (auto& v : w) v = static_cast<int64_t>(rng.below(20));
        const auto a = max_weight_assignment(w, r, c);
        int64_t got = 0;
        for (size_t i = 0; i < r; ++i)
            if (a[i] >= 0) got += w[i * c + static_cast<size_t>(a[i])];
        // Brute force: permutations of the longer side.
        const size_t n = std::max(r, c);
        std::vector<size_t> perm(n);
        std::iota(perm.begin(), perm.end(), size_t{0});
        int64_t best = 0;
        do {
            int64_t s = 0;
            for (size_t i = 0; i < n; ++i) {
                const size_t row = r >= c ? i : perm[i], col = r >= c ? perm[i] : i;
                if (row < r && col < c) s += w[row * c + col];
            }
            best = std::max(best, s);
        } while (std::next_permutation(perm.begin(), perm.end()));
        ASSERT_EQ(got, best) << "trial " << trial << " (" << r << "x" << c << ")";
    }
}

TEST(MetricsContingency, EdgeCasesFollowSklearn) {
    // Identical labelings (up to renaming): ARI = NMI = 1; one cluster vs one class: both 1.
    const std::vector<int32_t> a{0, 0, 1, 1, 2}, b{2, 2, 0, 0, 1};
    const Contingency t = contingency(a, 3, b, 3);
    EXPECT_DOUBLE_EQ(adjusted_rand_index(t), 1.0);
    EXPECT_DOUBLE_EQ(normalized_mutual_info(t), 1.0);
    EXPECT_DOUBLE_EQ(matched_accuracy(t).accuracy, 1.0);
    const std::vector<int32_t> one(4, 0);
    const Contingency t1 = contingency(one, 1, one, 1);
    EXPECT_DOUBLE_EQ(adjusted_rand_index(t1), 1.0);
    EXPECT_DOUBLE_EQ(normalized_mutual_info(t1), 1.0);
    // Empty cluster rows are ignored (sklearn never sees absent labels).
    const Contingency t2 = contingency(a, 5, b, 4);
    EXPECT_DOUBLE_EQ(normalized_mutual_info(t2), 1.0);
    EXPECT_DOUBLE_EQ(purity_table(t2)(4, 0), 0.0);
}

TEST(MetricsContingency, ValidatesInputs) {
    const std::vector<int32_t> a{0, 1, 2}, b{0, 1};
    EXPECT_THROW(contingency(a, 3, b, 2), Error);
    const std::vector<int32_t> c{0, 1, 3};
    EXPECT_THROW(contingency(c, 3, a, 3), Error);
    EXPECT_THROW(majority_accuracy(Contingency{}), Error);
}

}  // namespace
}  // namespace promptlens
