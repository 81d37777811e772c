// GCC will not if-convert the clamps in exp_approx (so the GELU loop would not vectorise) while it
// must preserve floating-point exception flags. Nothing here reads them.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

#include "model/gpt2_cpu_gemm.hpp"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numbers>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "linalg/gemm.hpp"
#include "model/fp32_tile.hpp"

#define PL_TARGET_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

namespace promptlens {
namespace {

constexpr size_t NR = LinearWeight::kPanel;  // 48 columns per panel
constexpr size_t MR = 8;                     // rows per register tile
constexpr size_t KB = 256;                   // k block of both kernels (bf16: 128 k-pairs)
constexpr size_t kConvertRows = 64;          // rows per task when rounding A to bf16
constexpr size_t kGroupPanels = 4;           // panels per task (192 columns)
constexpr size_t kBlockRows = 96;            // rows per sub-block of a task
constexpr size_t kMinBlockRows = 64;         // a task's rows are never cut shorter
constexpr size_t kFp32Cols = 256;            // portable fp32: output columns per OpenBLAS call
constexpr size_t kFp32MinTileRows = 256;     // portable fp32: rows split only into blocks this tall

// How the AVX-512 paths cut C = A·W into tasks: (row block, group of 4 panels). A task's W panels
// (over all of K) are packed once, then `task_loops` runs over them. Rows are cut only when there
// are fewer groups than 2 per thread. Every output element's arithmetic is fixed by K alone (k
// blocks of 256 added into C in order, then the epilogue), so neither the plan nor the thread
// count changes a bit.
struct TaskPlan {
    size_t group, groups, mc, tasks;
    TaskPlan(size_t M, size_t panels, int threads) {
        group = std::min(kGroupPanels, panels);
        groups = chunk_count(panels, group);
        const size_t want = chunk_count(2 * size_t(resolve_threads(threads)), groups);
        const size_t row_blocks = std::max<size_t>(1, std::min(want, M / kMinBlockRows));
        mc = (chunk_count(M, row_blocks) + MR - 1) / MR * MR;
        tasks = chunk_count(M, mc) * groups;
    }
    // Task t → rows [m0, m1) and panels [p0, p1).
    void task(size_t t, size_t M, size_t panels, size_t& m0, size_t& m1, size_t& p0,
              size_t& p1) const {
        m0 = t / groups * mc, m1 = std::min(M, m0 + mc);
        p0 = t % groups * group, p1 = std::min(panels, p0 + group);
    }
};

// One task's loop nest: rows [m0, m1) in sub-blocks of 96; per sub-block the k blocks outermost,
// then the panels, then the 8-row tiles. One panel's k block of W (≤ 48 KB) is reused by all of
// the sub-block's tiles from L1, and the sub-block's A (96 rows × one k block, ≤ 96 KB) by all
// the group's panels from L2; C (96 × 192) stays in L2 between k blocks. tile(m, rows, kb, pn)
// multiplies k block kb into the tile; finish(m, rows, pn) runs right after its last k block.
// On Zen 5 this order ran 10–15% faster than 8-row tiles over all of K with k blocks innermost.
template <class Tile, class Finish>
void task_loops(size_t m0, size_t m1, size_t p0, size_t p1, size_t k_blocks, const Tile& tile,
                const Finish& finish) {
    for (size_t s0 = m0; s0 < m1; s0 += kBlockRows) {
        const size_t s1 = std::min(m1, s0 + kBlockRows);
        for (size_t kb = 0; kb < k_blocks; ++kb)
            for (size_t pn = p0; pn < p1; ++pn)
                for (size_t m = s0; m < s1; m += MR) {
                    const size_t rows = std::min(MR, s1 - m);
                    tile(m, rows, kb, pn);
                    if (kb + 1 == k_blocks) finish(m, rows, pn);
                }
    }
}

// ---- bf16 micro-kernel -----------------------------------------------------------------------

// c = (load_c ? c : 0) + a (rows×2·kp2 bf16, lda elements) · b (kp2 k-pairs × 48 × 2 packed).
template <size_t R>
PL_TARGET_BF16 void kernel_bf16(const uint16_t* a, size_t lda, const uint16_t* b, size_t kp2,
                                float* c, size_t ldc, bool load_c, size_t nv) {
    __m512 acc[R][3];
#pragma GCC unroll 8
    for (size_t r = 0; r < R; ++r)
        for (size_t j = 0; j < 3; ++j) acc[r][j] = _mm512_setzero_ps();
    for (size_t k = 0; k < kp2; ++k) {
        const uint16_t* bk = b + k * NR * 2;
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(bk);
        const __m512bh b1 = (__m512bh)_mm512_loadu_si512(bk + 32);
        const __m512bh b2 = (__m512bh)_mm512_loadu_si512(bk + 64);
#pragma GCC unroll 8
        for (size_t r = 0; r < R; ++r) {
            int32_t pair;
            std::memcpy(&pair, a + r * lda + 2 * k, sizeof pair);
            const __m512bh av = (__m512bh)_mm512_set1_epi32(pair);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
            acc[r][2] = _mm512_dpbf16_ps(acc[r][2], av, b2);
        }
    }
    __mmask16 m[3];
    fp32_tile::column_masks<3>(nv, m);
#pragma GCC unroll 8
    for (size_t r = 0; r < R; ++r)
        for (size_t j = 0; j < 3; ++j) {
            float* p = c + r * ldc + 16 * j;
            __m512 v = acc[r][j];
            if (load_c) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m[j], p), v);
            _mm512_mask_storeu_ps(p, m[j], v);
        }
}

using KernelBf16 = void (*)(const uint16_t*, size_t, const uint16_t*, size_t, float*, size_t, bool,
                            size_t);
constexpr KernelBf16 kKernelsBf16[MR + 1] = {nullptr,        kernel_bf16<1>, kernel_bf16<2>,
                                             kernel_bf16<3>, kernel_bf16<4>, kernel_bf16<5>,
                                             kernel_bf16<6>, kernel_bf16<7>, kernel_bf16<8>};

// Plain stand-in for kernel_bf16 on CPUs without AVX-512 BF16: the same tile contract, products
// of bf16 values exact in fp32, summed pair by pair in k order.
void kernel_bf16_plain(const uint16_t* a, size_t rows, size_t lda, const uint16_t* b, size_t kp2,
                       float* c, size_t ldc, bool load_c, size_t nv) {
    float acc[MR][NR];
    for (size_t r = 0; r < rows; ++r) std::fill(acc[r], acc[r] + NR, 0.0f);
    for (size_t k = 0; k < kp2; ++k)
        for (size_t r = 0; r < rows; ++r) {
            const float a0 = from_bf16(a[r * lda + 2 * k]), a1 = from_bf16(a[r * lda + 2 * k + 1]);
            for (size_t j = 0; j < NR; ++j)
                acc[r][j] +=
                    a0 * from_bf16(b[(k * NR + j) * 2]) + a1 * from_bf16(b[(k * NR + j) * 2 + 1]);
        }
    for (size_t r = 0; r < rows; ++r)
        for (size_t j = 0; j < nv; ++j)
            c[r * ldc + j] = (load_c ? c[r * ldc + j] : 0.0f) + acc[r][j];
}

// A (M×K fp32) → out (M×Kp bf16, Kp even, zero tail).
PL_TARGET_BF16 void round_rows_avx512(ConstMatView A, size_t Kp, uint16_t* out) {
    const size_t K = A.cols();
    for (size_t i = 0; i < A.rows(); ++i) {
        const float* src = A.row(i).data();
        uint16_t* dst = out + i * Kp;
        size_t k = 0;
        for (; k + 16 <= K; k += 16)
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + k),
                                (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + k)));
        for (; k < K; ++k) dst[k] = to_bf16(src[k]);
        for (; k < Kp; ++k) dst[k] = 0;
    }
}

void round_rows_plain(ConstMatView A, size_t Kp, uint16_t* out) {
    for (size_t i = 0; i < A.rows(); ++i) {
        const float* src = A.row(i).data();
        uint16_t* dst = out + i * Kp;
        for (size_t k = 0; k < Kp; ++k) dst[k] = k < A.cols() ? to_bf16(src[k]) : uint16_t{0};
    }
}

// The epilogue of one finished tile (rows×cols of C starting at column col0).
void finish_tile(MatView tile, size_t col0, std::span<const float> bias, Activation act) {
    if (bias.empty()) return;
    const auto b = bias.subspan(col0, tile.cols());
    if (act == Activation::gelu_new)
        add_bias_gelu(tile, b);
    else
        add_bias(tile, b);
}

// The epilogue of one finished tile: rows [m0, m0 + rows) of panel pn.
void finish_panel_tile(MatView C, size_t m0, size_t rows, size_t pn, std::span<const float> bias,
                       Activation act) {
    const size_t c0 = pn * NR, c1 = std::min(C.cols(), c0 + NR);
    finish_tile(MatView(C.row(m0).data() + c0, rows, c1 - c0, C.stride()), c0, bias, act);
}

constexpr auto kKernelsF32 = fp32_tile::kernels<3, MR>;

// A 64-byte-aligned float buffer that only grows (each thread's packed B block).
struct AlignedFloats {
    float* data = nullptr;
    size_t size = 0;
    ~AlignedFloats() { std::free(data); }
    float* get(size_t n) {
        if (n > size) {
            std::free(data);
            data = static_cast<float*>(std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64));
            require(data != nullptr, "out of memory for a {}-float GEMM buffer", n);
            size = n;
        }
        return data;
    }
};

// fp32 C = [C +] A·W (+ epilogue) with the AVX-512 kernel, tasks as TaskPlan says; each task
// first copies its panels of W (read in place from the mapped file) into the panel layout.
void linear_fp32_avx512(ConstMatView A, const LinearWeight& W, std::span<const float> bias,
                        Activation act, bool accumulate, MatView C, int threads) {
    const size_t M = A.rows(), K = W.in(), N = W.out(), np = W.panels();
    const ConstMatView w = W.fp32();
    const TaskPlan plan(M, np, threads);
    parallel_for(plan.tasks, threads, [&](size_t task) {
        static thread_local AlignedFloats buffer;
        size_t mb0, mb1, p0, p1;
        plan.task(task, M, np, mb0, mb1, p0, p1);
        float* bp = buffer.get((p1 - p0) * K * NR);
        for (size_t pn = p0; pn < p1; ++pn) {
            const size_t c0 = pn * NR, nv = std::min(NR, N - c0);
            float* dst = bp + (pn - p0) * K * NR;
            for (size_t k = 0; k < K; ++k) {
                std::memcpy(dst + k * NR, w.row(k).data() + c0, nv * sizeof(float));
                std::fill(dst + k * NR + nv, dst + (k + 1) * NR, 0.0f);
            }
        }
        task_loops(
            mb0, mb1, p0, p1, chunk_count(K, KB),
            [&](size_t m0, size_t rows, size_t kb, size_t pn) {
                const size_t k0 = kb * KB, c0 = pn * NR;
                kKernelsF32[rows](A.row(m0).data() + k0, A.stride(),
                                  bp + (pn - p0) * K * NR + k0 * NR, std::min(KB, K - k0),
                                  C.row(m0).data() + c0, C.stride(), accumulate || kb > 0,
                                  std::min(NR, N - c0));
            },
            [&](size_t m0, size_t rows, size_t pn) {
                finish_panel_tile(C, m0, rows, pn, bias, act);
            });
    });
}

}  // namespace

// ---- public helpers --------------------------------------------------------------------------

const char* precision_name(Precision p) {
    return p == Precision::fp32 ? "fp32" : "bf16";
}

Precision parse_precision(const std::string& name) {
    if (name == "fp32") return Precision::fp32;
    if (name == "bf16") return Precision::bf16;
    fail("precision '{}': expected fp32 or bf16", name);
}

namespace {
std::atomic<bool> g_portable{false};
}

void use_portable_kernels(bool on) {
    g_portable = on;
}

bool cpu_has_avx512f() {
    static const bool ok = __builtin_cpu_supports("avx512f") &&
                           __builtin_cpu_supports("avx512bw") &&
                           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    return ok && !g_portable;
}

bool cpu_has_avx512bf16() {
    static const bool ok = __builtin_cpu_supports("avx512bf16");
    return ok && cpu_has_avx512f();
}

uint16_t to_bf16(float x) {
    const auto u = std::bit_cast<uint32_t>(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // NaN
    return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

float from_bf16(uint16_t b) {
    return std::bit_cast<float>(uint32_t{b} << 16);
}

namespace {

// Cephes expf: |relative error| ≲ 2 ulp on [-87, 88]; inputs are clamped to that range (below it
// the result is ≈ 1e-38 instead of a denormal or 0, harmless for softmax and GELU).
inline float exp_inline(float x) {
    x = x < -87.0f ? -87.0f : x;  // ternaries, not std::min/max: they vectorise
    x = x > 88.0f ? 88.0f : x;
    const float n = (x * std::numbers::log2e_v<float> + 0x1.8p23f) - 0x1.8p23f;  // round to int
    const float r = x - n * 0.693359375f - n * -2.12194440e-4f;
    const float z = r * r;
    const float p = (((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r +
                       4.1665795894e-2f) *
                          r +
                      1.6666665459e-1f) *
                         r +
                     5.0000001201e-1f) *
                        z +
                    r + 1.0f;
    const auto e = static_cast<int32_t>(n);
    return p * std::bit_cast<float>((e + 127) << 23);
}

// y = gelu_new(y + bias), with 0.5·v·(1 + tanh u) = v / (1 + exp(−2u)), u = √(2/π)(v + 0.044715v³).
inline void bias_gelu_loop(MatView y, std::span<const float> bias) {
    const float k = float(std::sqrt(2.0 / std::numbers::pi));
    for (size_t t = 0; t < y.rows(); ++t) {
        float* r = y.row(t).data();
        for (size_t j = 0; j < y.cols(); ++j) {
            const float v = r[j] + bias[j];
            const float u = k * (v + 0.044715f * v * v * v);
            r[j] = v / (1.0f + exp_inline(-2.0f * u));
        }
    }
}

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_ps(), which -Wmaybe-uninitialized
// reports once they are inlined (a known false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// exp_inline on 16 lanes (the same clamps and polynomial; 2^n by scalef).
PL_TARGET_F32 inline __m512 exp512(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
    const __m512 n =
        _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(std::numbers::log2e_v<float>)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

// bias_gelu_loop on 16 lanes, with the division v / (1 + e) as v · rcp14 refined by one Newton
// step (relative error ~2⁻²⁸, within an ulp or two of the quotient; a vdivps would cost more
// than the rest of the loop).
PL_TARGET_F32 void bias_gelu_avx512(MatView y, std::span<const float> bias) {
    const __m512 k = _mm512_set1_ps(float(std::sqrt(2.0 / std::numbers::pi)));
    const __m512 c = _mm512_set1_ps(0.044715f), one = _mm512_set1_ps(1.0f);
    const __m512 two = _mm512_set1_ps(2.0f), minus_two = _mm512_set1_ps(-2.0f);
    const size_t n = y.cols();
    for (size_t t = 0; t < y.rows(); ++t) {
        float* r = y.row(t).data();
        for (size_t j = 0; j < n; j += 16) {
            const __mmask16 m = fp32_tile::tail_mask(n - j);
            const __m512 v =
                _mm512_add_ps(_mm512_maskz_loadu_ps(m, r + j), _mm512_maskz_loadu_ps(m, &bias[j]));
            const __m512 u =
                _mm512_mul_ps(k, _mm512_fmadd_ps(_mm512_mul_ps(c, v), _mm512_mul_ps(v, v), v));
            const __m512 d = _mm512_add_ps(one, exp512(_mm512_mul_ps(minus_two, u)));
            __m512 q = _mm512_rcp14_ps(d);
            q = _mm512_mul_ps(q, _mm512_fnmadd_ps(d, q, two));
            _mm512_mask_storeu_ps(r + j, m, _mm512_mul_ps(v, q));
        }
    }
}

// r[0, n) = softmax(scale · r[0, n)): 16 independent accumulators so the max and sum vectorise;
// exp and sum in one sweep. max(scale · r) is scale · max(r) rounded (scale > 0), so the scores
// are the same floats as when scaled first.
inline void softmax_loop(float* r, size_t n, float scale) {
    constexpr size_t L = 16;
    float acc[L];
    std::fill(acc, acc + L, -INFINITY);
    size_t i = 0;
    for (; i + L <= n; i += L)
        for (size_t k = 0; k < L; ++k) acc[k] = r[i + k] > acc[k] ? r[i + k] : acc[k];
    float mx = -INFINITY;
    for (; i < n; ++i) mx = r[i] > mx ? r[i] : mx;
    for (size_t k = 0; k < L; ++k) mx = acc[k] > mx ? acc[k] : mx;
    const float top = scale * mx;
    std::fill(acc, acc + L, 0.0f);
    for (i = 0; i + L <= n; i += L)
        for (size_t k = 0; k < L; ++k) {
            const float e = exp_inline(scale * r[i + k] - top);
            r[i + k] = e;
            acc[k] += e;
        }
    float sum = 0;
    for (; i < n; ++i) {
        r[i] = exp_inline(scale * r[i] - top);
        sum += r[i];
    }
    for (size_t k = 0; k < L; ++k) sum += acc[k];
    const float inv = 1.0f / sum;
    for (size_t j = 0; j < n; ++j) r[j] *= inv;
}

// softmax_loop on 16 lanes with exp512 (masked tail; lane sums added in lane order).
PL_TARGET_F32 void softmax_avx512(float* r, size_t n, float scale) {
    auto mask = [n](size_t i) { return fp32_tile::tail_mask(n - i); };
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (size_t i = 0; i < n; i += 16)
        mx = _mm512_mask_max_ps(mx, mask(i), mx, _mm512_maskz_loadu_ps(mask(i), r + i));
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, mx);
    float hi = lanes[0];
    for (float l : lanes) hi = l > hi ? l : hi;
    const __m512 top = _mm512_set1_ps(scale * hi);
    const __m512 sc = _mm512_set1_ps(scale);
    __m512 sum = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = mask(i);
        const __m512 e = exp512(_mm512_fmsub_ps(sc, _mm512_maskz_loadu_ps(m, r + i), top));
        _mm512_mask_storeu_ps(r + i, m, e);
        sum = _mm512_mask_add_ps(sum, m, sum, e);
    }
    _mm512_store_ps(lanes, sum);
    float total = 0;
    for (float l : lanes) total += l;
    const __m512 inv = _mm512_set1_ps(1.0f / total);
    for (size_t i = 0; i < n; i += 16)
        _mm512_mask_storeu_ps(r + i, mask(i),
                              _mm512_mul_ps(_mm512_maskz_loadu_ps(mask(i), r + i), inv));
}

#pragma GCC diagnostic pop

}  // namespace

float exp_approx(float x) {
    return exp_inline(x);
}

void softmax_inplace(float* r, size_t n, float scale) {
    if (cpu_has_avx512f())
        softmax_avx512(r, n, scale);
    else
        softmax_loop(r, n, scale);
}

void add_bias(MatView y, std::span<const float> bias) {
    for (size_t t = 0; t < y.rows(); ++t) {
        float* r = y.row(t).data();
        for (size_t j = 0; j < y.cols(); ++j) r[j] += bias[j];
    }
}

void add_bias_gelu(MatView y, std::span<const float> bias) {
    if (cpu_has_avx512f())
        bias_gelu_avx512(y, bias);
    else
        bias_gelu_loop(y, bias);
}

LinearWeight::LinearWeight(ConstMatView w, Precision p)
    : w_(w), K_(w.rows()), N_(w.cols()), Kp_((w.rows() + 1) / 2 * 2), precision_(p) {
    if (p != Precision::bf16) return;
    const size_t np = panels(), kp2 = Kp_ / 2;
    bf16_.assign(np * kp2 * NR * 2, 0);
    for (size_t pn = 0; pn < np; ++pn) {
        uint16_t* dst = bf16_.data() + pn * kp2 * NR * 2;
        const size_t c0 = pn * NR, nv = std::min(NR, N_ - c0);
        for (size_t k = 0; k < K_; ++k) {
            const float* src = w.row(k).data() + c0;
            for (size_t j = 0; j < nv; ++j) dst[((k / 2) * NR + j) * 2 + (k % 2)] = to_bf16(src[j]);
        }
    }
}

void linear(ConstMatView A, const LinearWeight& W, std::span<const float> bias, Activation act,
            bool accumulate, MatView C, int threads, LinearScratch& scratch) {
    const size_t M = A.rows(), K = W.in(), N = W.out();
    require(A.cols() == K && C.rows() == M && C.cols() == N, "linear: A is {}×{}, W {}×{}, C {}×{}",
            M, A.cols(), K, N, C.rows(), C.cols());
    require(bias.empty() || bias.size() == N, "linear: {} biases for {} outputs", bias.size(), N);
    require(!(accumulate && act != Activation::none), "linear: activation with accumulate");
    if (M == 0) return;

    if (W.precision() == Precision::fp32 && cpu_has_avx512f()) {
        linear_fp32_avx512(A, W, bias, act, accumulate, C, threads);
        return;
    }
    if (W.precision() == Precision::fp32) {
        // OpenBLAS sgemm per tile: a fixed block of output columns over all rows — or over 2 or
        // 4 row blocks when that makes the tile count a multiple of 4, so 2 or 4 threads get equal
        // shares (the 3 column blocks of a 768-wide layer left one of two threads idle a third of
        // the time). Tiles depend on the shape only. The epilogue runs on each tile while warm.
        const ConstMatView w = W.fp32();
        const size_t col_blocks = chunk_count(N, kFp32Cols);
        size_t row_blocks = 1;
        while (row_blocks < 4 && (col_blocks * row_blocks) % 4 != 0 &&
               M / (2 * row_blocks) >= kFp32MinTileRows)
            row_blocks *= 2;
        const size_t tile_rows = (M + row_blocks - 1) / row_blocks;
        parallel_for(col_blocks * row_blocks, threads, [&](size_t tile) {
            const size_t c0 = tile / row_blocks * kFp32Cols, c1 = std::min(N, c0 + kFp32Cols);
            const size_t r0 = tile % row_blocks * tile_rows, r1 = std::min(M, r0 + tile_rows);
            if (r0 >= r1) return;
            const MatView cb(C.data() + r0 * C.stride() + c0, r1 - r0, c1 - c0, C.stride());
            blas::gemm(Trans::N, Trans::N, 1.0f, A.row_range(r0, r1),
                       ConstMatView(w.data() + c0, K, c1 - c0, w.stride()),
                       accumulate ? 1.0f : 0.0f, cb);
            for (size_t t0 = 0; t0 < r1 - r0; t0 += kConvertRows)
                finish_tile(cb.row_range(t0, std::min(r1 - r0, t0 + kConvertRows)), c0, bias, act);
        });
        return;
    }

    // bf16: round A once (parallel over row blocks), then panels as above.
    const size_t Kp = W.k_padded(), kp2 = Kp / 2;
    const bool fast = cpu_has_avx512bf16();
    if (scratch.a_bf16.size() < M * Kp) scratch.a_bf16.resize(M * Kp);
    uint16_t* ab = scratch.a_bf16.data();
    parallel_for(chunk_count(M, kConvertRows), threads, [&](size_t blk) {
        const size_t b = blk * kConvertRows, e = std::min(M, b + kConvertRows);
        if (fast)
            round_rows_avx512(A.row_range(b, e), Kp, ab + b * Kp);
        else
            round_rows_plain(A.row_range(b, e), Kp, ab + b * Kp);
    });
    // Tasks as TaskPlan says; W's panels are already packed (and contiguous per group).
    const size_t np = W.panels();
    const TaskPlan plan(M, np, threads);
    parallel_for(plan.tasks, threads, [&](size_t task) {
        size_t mb0, mb1, p0, p1;
        plan.task(task, M, np, mb0, mb1, p0, p1);
        task_loops(
            mb0, mb1, p0, p1, chunk_count(kp2, KB / 2),
            [&](size_t m0, size_t rows, size_t kb, size_t pn) {
                const size_t q0 = kb * KB / 2, q = std::min(KB / 2, kp2 - q0), c0 = pn * NR;
                const uint16_t* blk = W.bf16_panel(pn) + q0 * NR * 2;
                float* c = C.row(m0).data() + c0;
                const bool load_c = accumulate || kb > 0;
                if (fast)
                    kKernelsBf16[rows](ab + m0 * Kp + 2 * q0, Kp, blk, q, c, C.stride(), load_c,
                                       std::min(NR, N - c0));
                else
                    kernel_bf16_plain(ab + m0 * Kp + 2 * q0, rows, Kp, blk, q, c, C.stride(),
                                      load_c, std::min(NR, N - c0));
            },
            [&](size_t m0, size_t rows, size_t pn) {
                finish_panel_tile(C, m0, rows, pn, bias, act);
            });
    });
}

void bf16_gemm_reference(ConstMatView A, ConstMatView W, MatView C) {
    require(A.cols() == W.rows() && C.rows() == A.rows() && C.cols() == W.cols(),
            "bf16_gemm_reference: A is {}×{}, W {}×{}, C {}×{}", A.rows(), A.cols(), W.rows(),
            W.cols(), C.rows(), C.cols());
    for (size_t i = 0; i < A.rows(); ++i)
        for (size_t j = 0; j < W.cols(); ++j) {
            float s = 0;
            for (size_t k = 0; k < A.cols(); ++k)
                s += from_bf16(to_bf16(A(i, k))) * from_bf16(to_bf16(W(k, j)));
            C(i, j) = s;
        }
}

}  // namespace promptlens
