// Which hand-written CPU kernels the GPT-2 path runs, chosen once at run time from what the CPU
// has (the binary is built for plain x86-64 and carries all tiers):
//  * avx512: AVX-512 F/BW/VL/DQ — 8×48 fp32 register tiles (16 lanes), vdpbf16ps for bf16 when
//    the CPU also has AVX-512 BF16;
//  * avx2: AVX2 + FMA — 4×24 fp32 register tiles (8 lanes); bf16 weights are widened to fp32 on
//    the fly (the products of bf16 values are exact in fp32, so the result is the bf16 one);
//  * portable: OpenBLAS sgemm and loops the compiler vectorises for SSE2.
// Every tier gives results independent of the thread count; tests compare each with the plain
// references and with the others.
#pragma once

namespace promptlens {

enum class KernelTier { portable = 0, avx2 = 1, avx512 = 2 };

const char* kernel_tier_name(KernelTier t);  // "portable" | "avx2" | "avx512"

// The best tier this CPU supports (checked once), whatever the limit.
KernelTier best_kernel_tier();
// The tier the kernels run: best_kernel_tier(), lowered to the limit when one is set.
KernelTier kernel_tier();
// Whether the bf16 path may use vdpbf16ps: the CPU has AVX-512 BF16 and the tier is avx512.
bool cpu_has_avx512bf16();
// Tests and benchmarks: run at most `max` (the best the CPU supports when it is lower). Not for
// use while passes are running.
void limit_kernel_tier(KernelTier max);

}  // namespace promptlens
