#include "model/gpt2_cpu_gemm.hpp"

#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "linalg/gemm.hpp"
#include "model/fp32_tile.hpp"
#include "model/fp32_tile_avx2.hpp"
#include "model/gpt2_cpu_elementwise.hpp"
#include "model/kernel_tier.hpp"

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

// How the tiled paths (avx512, avx2) cut C = A·W into tasks: (row block, group of 4 panels). A
// task's W panels (over all of K) are packed once, then `task_loops` runs over them. Rows are cut
// only when there are fewer groups than 2 per thread. Every output element's arithmetic is fixed by
// K alone (k blocks of 256 added into C in order, then the epilogue), so neither the plan nor the
// thread count changes a bit.
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

// A (M×K) → out (M×K): each value rounded to bf16 (as to_bf16) and kept as a float.
PL_TARGET_AVX2 void round_rows_to_fp32(ConstMatView A, MatView out) {
    const size_t K = A.cols();
    const __m256i bias = _mm256_set1_epi32(0x7fff), one = _mm256_set1_epi32(1);
    const __m256i hi = _mm256_set1_epi32(int(0xffff0000u)), quiet = _mm256_set1_epi32(0x400000);
    for (size_t i = 0; i < A.rows(); ++i) {
        const float* src = A.row(i).data();
        float* dst = out.row(i).data();
        size_t k = 0;
        for (; k + 8 <= K; k += 8) {
            const __m256 x = _mm256_loadu_ps(src + k);
            const __m256i u = _mm256_castps_si256(x);
            const __m256i even = _mm256_and_si256(_mm256_srli_epi32(u, 16), one);
            const __m256i rounded = _mm256_add_epi32(u, _mm256_add_epi32(bias, even));
            const __m256i nan = _mm256_or_si256(u, quiet);
            const __m256 is_nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
            const __m256i r = _mm256_castps_si256(
                _mm256_blendv_ps(_mm256_castsi256_ps(rounded), _mm256_castsi256_ps(nan), is_nan));
            _mm256_storeu_ps(dst + k, _mm256_castsi256_ps(_mm256_and_si256(r, hi)));
        }
        for (; k < K; ++k) dst[k] = from_bf16(to_bf16(src[k]));
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
constexpr auto kKernelsAvx2 = fp32_tile_avx2::kernels<3, 4>;
constexpr size_t kAvx2Cols = 24;  // columns per AVX2 tile (3 ymm registers)

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

// How the fp32 tiers lay out one packed panel (K × 48 floats, zero past N) and multiply an 8-row
// tile by one k block of it. AVX-512: rows of 48 floats, one 8×48 kernel. AVX2: two sub-panels
// of 24 columns, each K × 24 contiguous (a k block of 256 is 24 KB, within a 32 KB L1), four
// 4×24 kernels. Both add k block kb into C with the same per-element chain of FMAs, so for the
// same inputs they give the same bits.
struct Avx512Layout {
    static constexpr size_t kSub = NR;
    static void tile(const float* a, size_t lda, const float* panel, size_t /*K*/, size_t k0,
                     size_t kc, size_t rows, float* c, size_t ldc, bool load_c, size_t nv) {
        kKernelsF32[rows](a, lda, panel + k0 * NR, kc, c, ldc, load_c, nv);
    }
};
struct Avx2Layout {
    static constexpr size_t kSub = kAvx2Cols;
    static void tile(const float* a, size_t lda, const float* panel, size_t K, size_t k0, size_t kc,
                     size_t rows, float* c, size_t ldc, bool load_c, size_t nv) {
        for (size_t h = 0; h * kSub < nv; ++h) {
            const float* sub = panel + h * K * kSub + k0 * kSub;
            const size_t cols = std::min(kSub, nv - h * kSub);
            for (size_t r = 0; r < rows; r += 4)
                kKernelsAvx2[std::min<size_t>(4, rows - r)](
                    a + r * lda, lda, sub, kSub, kc, c + r * ldc + h * kSub, ldc, load_c, cols);
        }
    }
};

// Column j of a packed panel, row k, for sub-panels of `sub` columns.
inline size_t packed_index(size_t k, size_t j, size_t K, size_t sub) {
    return j / sub * K * sub + k * sub + j % sub;
}

// Panel pn of the fp32 W (K × N, read in place) → dst in the layout.
void pack_fp32_panel(ConstMatView w, size_t pn, size_t sub, float* dst) {
    const size_t K = w.rows(), c0 = pn * NR, nv = std::min(NR, w.cols() - c0);
    for (size_t j0 = 0; j0 < NR; j0 += sub) {
        const size_t n = nv > j0 ? std::min(sub, nv - j0) : 0;
        float* d = dst + packed_index(0, j0, K, sub);
        for (size_t k = 0; k < K; ++k) {
            std::memcpy(d + k * sub, w.row(k).data() + c0 + j0, n * sizeof(float));
            std::fill(d + k * sub + n, d + (k + 1) * sub, 0.0f);
        }
    }
}

// Panel pn of a bf16 LinearWeight (k-pairs × 48 × 2) widened to fp32 (exact) → dst in the
// layout: 32-bit word j of a k-pair holds (k odd) << 16 | (k even).
PL_TARGET_AVX2 void widen_bf16_panel(const uint16_t* src, size_t K, size_t sub, float* dst) {
    const __m256i hi = _mm256_set1_epi32(int(0xffff0000u));
    for (size_t k = 0; k < K; k += 2) {
        const auto* words = reinterpret_cast<const __m256i*>(src + k * NR);
        for (size_t j = 0; j < NR; j += 8) {
            const __m256i v = _mm256_loadu_si256(words + j / 8);
            float* d = dst + packed_index(k, j, K, sub);
            _mm256_storeu_ps(d, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
            if (k + 1 < K) _mm256_storeu_ps(d + sub, _mm256_castsi256_ps(_mm256_and_si256(v, hi)));
        }
    }
}

// C = [C +] A·W (+ epilogue) with a tier's fp32 kernel, tasks as TaskPlan says; each task first
// packs its panels of W over all of K into a per-thread buffer (pack(pn, dst)).
template <class Layout, class Pack>
void linear_packed(ConstMatView A, size_t K, size_t N, size_t np, const Pack& pack,
                   std::span<const float> bias, Activation act, bool accumulate, MatView C,
                   int threads) {
    const size_t M = A.rows();
    const TaskPlan plan(M, np, threads);
    parallel_for(plan.tasks, threads, [&](size_t task) {
        static thread_local AlignedFloats buffer;
        size_t mb0, mb1, p0, p1;
        plan.task(task, M, np, mb0, mb1, p0, p1);
        float* bp = buffer.get((p1 - p0) * K * NR);
        for (size_t pn = p0; pn < p1; ++pn) pack(pn, bp + (pn - p0) * K * NR);
        task_loops(
            mb0, mb1, p0, p1, chunk_count(K, KB),
            [&](size_t m0, size_t rows, size_t kb, size_t pn) {
                const size_t k0 = kb * KB, c0 = pn * NR;
                Layout::tile(A.row(m0).data() + k0, A.stride(), bp + (pn - p0) * K * NR, K, k0,
                             std::min(KB, K - k0), rows, C.row(m0).data() + c0, C.stride(),
                             accumulate || kb > 0, std::min(NR, N - c0));
            },
            [&](size_t m0, size_t rows, size_t pn) {
                finish_panel_tile(C, m0, rows, pn, bias, act);
            });
    });
}

// fp32 W read in place, or bf16 W widened (then A must already be rounded to bf16 values).
template <class Layout>
void linear_tier(ConstMatView A, const LinearWeight& W, std::span<const float> bias, Activation act,
                 bool accumulate, MatView C, int threads) {
    const size_t K = W.in(), sub = Layout::kSub;
    if (W.precision() == Precision::fp32) {
        const ConstMatView w = W.fp32();
        linear_packed<Layout>(
            A, K, W.out(), W.panels(),
            [&](size_t pn, float* dst) { pack_fp32_panel(w, pn, sub, dst); }, bias, act, accumulate,
            C, threads);
    } else {
        linear_packed<Layout>(
            A, K, W.out(), W.panels(),
            [&](size_t pn, float* dst) { widen_bf16_panel(W.bf16_panel(pn), K, sub, dst); }, bias,
            act, accumulate, C, threads);
    }
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

uint16_t to_bf16(float x) {
    const auto u = std::bit_cast<uint32_t>(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // NaN
    return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

float from_bf16(uint16_t b) {
    return std::bit_cast<float>(uint32_t{b} << 16);
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

    // The tiers' fp32 tiles run fp32, and bf16 where there is no vdpbf16ps: A rounded to bf16
    // values (kept as fp32), W's panels widened to fp32 per task; every product is then exact, as
    // vdpbf16ps makes it.
    const KernelTier tier = kernel_tier();
    if (tier != KernelTier::portable &&
        (W.precision() == Precision::fp32 || !cpu_has_avx512bf16())) {
        ConstMatView a = A;
        if (W.precision() == Precision::bf16) {
            if (scratch.a_rounded.size() < M * K) scratch.a_rounded.resize(M * K);
            const MatView ar(scratch.a_rounded.data(), M, K);
            parallel_for(chunk_count(M, kConvertRows), threads, [&](size_t blk) {
                const size_t b = blk * kConvertRows, e = std::min(M, b + kConvertRows);
                round_rows_to_fp32(A.row_range(b, e), ar.row_range(b, e));
            });
            a = ar;
        }
        if (tier == KernelTier::avx512)
            return linear_tier<Avx512Layout>(a, W, bias, act, accumulate, C, threads);
        return linear_tier<Avx2Layout>(a, W, bias, act, accumulate, C, threads);
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

    // bf16 with vdpbf16ps, or the plain loop on the portable tier: round A once (parallel over row
    // blocks), then panels as above.
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
