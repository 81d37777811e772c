// The kernel tiers (model/kernel_tier.hpp) this CPU can run, for tests that hold every tier to
// the same contract: an AVX-512 machine tests avx512, avx2 and portable; an AVX2 one the last two.
#pragma once

#include <vector>

#include "model/kernel_tier.hpp"

namespace promptlens::test {

// portable … the best this CPU supports.
inline std::vector<KernelTier> supported_tiers() {
    std::vector<KernelTier> tiers;
    for (int t = 0; t <= int(best_kernel_tier()); ++t) tiers.push_back(KernelTier(t));
    return tiers;
}

// Runs the enclosing scope on at most tier `t`; the tier before it is restored at its end.
struct TierScope {
    explicit TierScope(KernelTier t) : before(kernel_tier()) { limit_kernel_tier(t); }
    ~TierScope() { limit_kernel_tier(before); }
    const KernelTier before;
    TierScope(const TierScope&) = delete;
    TierScope& operator=(const TierScope&) = delete;
};

}  // namespace promptlens::test
