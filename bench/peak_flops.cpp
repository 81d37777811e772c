// The machine's measured arithmetic peak, so the GPT-2 benchmarks can state efficiency as a ratio:
// register-only loops of independent vector FMAs (no memory traffic), timed on 1 and 2 threads,
// with the widest instructions the CPU has (those the GEMM kernels of its tier use).
//
//   promptlens_bench_peak_flops [--seconds 0.5] [--threads 1,2]
//
//  * fp32: vfmadd231ps zmm, 16 independent accumulators (enough to cover FMA latency × ports).
//    One instruction = 16 lanes × 2 FLOP = 32 FLOP. Without AVX-512F: vfmadd231ps ymm (AVX2 +
//    FMA, 16 FLOP), 12 accumulators (16 spilled to the stack and read half the peak on Zen 3),
//    the line then ends in "(avx2)".
//  * bf16: vdpbf16ps zmm (AVX-512 BF16), 16 accumulators (12 read 9% low on Zen 5: its longer
//    latency needs more in flight). One instruction = 16 fp32 lanes, each += two bf16 products:
//    64 FLOP (counted as the GEMM it serves counts them: 2 per multiply-add).
// Lines are "peak fp32 threads=T GFLOP/s=X", so scripts can grep them. Where an instruction set is
// missing (AVX-512 BF16; AVX2 + FMA) the line says "unsupported" instead. Without AVX-512 BF16,
// promptlens runs bf16 on the fp32 FMAs, so the fp32 peak is the bound for both.
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

namespace {

constexpr int kAcc = 16;
constexpr int kAcc2 = 12;  // AVX2 has 16 ymm registers: 12 accumulators + 2 constants, no spills
constexpr long kInner = 1000;  // instructions per accumulator between clock reads

__attribute__((target("avx512f"))) double fp32_loop(double seconds, long* iterations) {
    __m512 acc[kAcc];
    for (int k = 0; k < kAcc; ++k) acc[k] = _mm512_set1_ps(0.001f * float(k));
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    long iters = 0;
    const auto t0 = std::chrono::steady_clock::now();
    double el = 0;
    do {
        for (long i = 0; i < kInner; ++i)
#pragma GCC unroll 16
            for (int k = 0; k < kAcc; ++k) acc[k] = _mm512_fmadd_ps(acc[k], a, b);
        iters += kInner;
        el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } while (el < seconds);
    __m512 s = acc[0];
    for (int k = 1; k < kAcc; ++k) s = _mm512_add_ps(s, acc[k]);
    volatile float sink = _mm512_reduce_add_ps(s);
    (void)sink;
    *iterations = iters;
    return el;
}

__attribute__((target("avx2,fma"))) double fp32_avx2_loop(double seconds, long* iterations) {
    __m256 acc[kAcc2];
    for (int k = 0; k < kAcc2; ++k) acc[k] = _mm256_set1_ps(0.001f * float(k));
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    long iters = 0;
    const auto t0 = std::chrono::steady_clock::now();
    double el = 0;
    do {
        for (long i = 0; i < kInner; ++i)
#pragma GCC unroll 12
            for (int k = 0; k < kAcc2; ++k) acc[k] = _mm256_fmadd_ps(acc[k], a, b);
        iters += kInner;
        el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } while (el < seconds);
    __m256 s = acc[0];
    for (int k = 1; k < kAcc2; ++k) s = _mm256_add_ps(s, acc[k]);
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, s);
    volatile float sink = lanes[0];
    (void)sink;
    *iterations = iters;
    return el;
}

__attribute__((target("avx512f,avx512bf16,avx512bw,avx512vl"))) double bf16_loop(double seconds,
                                                                                 long* iterations) {
    __m512 acc[kAcc];
    for (int k = 0; k < kAcc; ++k) acc[k] = _mm512_set1_ps(0.001f * float(k));
    const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(2e-3f));
    const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(-1e-3f));
    long iters = 0;
    const auto t0 = std::chrono::steady_clock::now();
    double el = 0;
    do {
        for (long i = 0; i < kInner; ++i)
#pragma GCC unroll 16
            for (int k = 0; k < kAcc; ++k) acc[k] = _mm512_dpbf16_ps(acc[k], a, b);
        iters += kInner;
        el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } while (el < seconds);
    __m512 s = acc[0];
    for (int k = 1; k < kAcc; ++k) s = _mm512_add_ps(s, acc[k]);
    volatile float sink = _mm512_reduce_add_ps(s);
    (void)sink;
    *iterations = iters;
    return el;
}

// GFLOP/s of `threads` copies of loop run at once (their FLOPs summed over the longest time).
template <class Loop>
double measure(Loop loop, double flop_per_iteration, int threads, double seconds) {
    std::vector<long> iters(size_t(threads), 0);
    std::vector<double> el(size_t(threads), 0);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] { el[size_t(t)] = loop(seconds, &iters[size_t(t)]); });
    for (auto& th : pool) th.join();
    double flop = 0, longest = 0;
    for (int t = 0; t < threads; ++t) {
        flop += double(iters[size_t(t)]) * flop_per_iteration;
        longest = std::max(longest, el[size_t(t)]);
    }
    return flop / longest / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Measured fp32 FMA and bf16 dot-product peak GFLOP/s of this CPU"};
    double seconds = 0.5;
    std::vector<int> threads = {1, 2};
    app.add_option("--seconds", seconds, "time per measurement");
    app.add_option("--threads", threads, "thread counts")->delimiter(',');
    CLI11_PARSE(app, argc, argv);

    const bool f = __builtin_cpu_supports("avx512f");
    const bool f2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const bool bf = f && __builtin_cpu_supports("avx512bf16");
    for (int t : threads) {
        if (f)
            std::printf("peak fp32 threads=%d GFLOP/s=%.1f\n", t,
                        measure(fp32_loop, 32.0 * kAcc, t, seconds));
        else if (f2)
            std::printf("peak fp32 threads=%d GFLOP/s=%.1f (avx2)\n", t,
                        measure(fp32_avx2_loop, 16.0 * kAcc2, t, seconds));
        else
            std::printf("peak fp32 threads=%d unsupported (no AVX-512F, no AVX2 + FMA)\n", t);
        if (bf)
            std::printf("peak bf16 threads=%d GFLOP/s=%.1f\n", t,
                        measure(bf16_loop, 64.0 * kAcc, t, seconds));
        else
            std::printf(
                "peak bf16 threads=%d unsupported (no AVX-512 BF16: bf16 runs on the fp32 FMAs)\n",
                t);
    }
    return 0;
}
