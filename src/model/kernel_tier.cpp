#include "model/kernel_tier.hpp"

#include <algorithm>
#include <atomic>

namespace promptlens {
namespace {

KernelTier detected() {
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return KernelTier::avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return KernelTier::avx2;
    return KernelTier::portable;
}

std::atomic<KernelTier> g_limit{KernelTier::avx512};

}  // namespace

const char* kernel_tier_name(KernelTier t) {
    switch (t) {
        case KernelTier::avx512:
            return "avx512";
        case KernelTier::avx2:
            return "avx2";
        case KernelTier::portable:
            break;
    }
    return "portable";
}

KernelTier best_kernel_tier() {
    static const KernelTier cpu = detected();
    return cpu;
}

KernelTier kernel_tier() {
    return std::min(best_kernel_tier(), g_limit.load(std::memory_order_relaxed));
}

bool cpu_has_avx512bf16() {
    static const bool bf16 = __builtin_cpu_supports("avx512bf16");
    return bf16 && kernel_tier() == KernelTier::avx512;
}

void limit_kernel_tier(KernelTier max) {
    g_limit.store(max, std::memory_order_relaxed);
}

}  // namespace promptlens
