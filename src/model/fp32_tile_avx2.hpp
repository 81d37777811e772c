// The AVX2 + FMA fp32 register-tile kernel (kernel tier avx2, model/kernel_tier.hpp): R rows × J
// registers of 8 columns, R·J accumulators (R·J + J + 1 ≤ 16 ymm registers: 4×3 is the linear
// layers' tile), one broadcast of A per row and k, J loads of B per k.
//
// Every output element is one chain of FMAs in k order, whatever R, J or where the tile sits, as
// in the AVX-512 kernel (fp32_tile.hpp). Only call it when kernel_tier() ≥ avx2.
#pragma once

#include <immintrin.h>

#include <array>
#include <cstddef>
#include <utility>

#define PL_TARGET_AVX2 __attribute__((target("avx2,fma")))

namespace promptlens::fp32_tile_avx2 {

// A lane mask (all ones in lanes < min(left, 8)) for maskload / maskstore.
PL_TARGET_AVX2 inline __m256i tail_mask(size_t left) {
    const int n = left >= 8 ? 8 : static_cast<int>(left);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// c (R × nv, ldc apart) = (load_c ? c : 0) + a (R rows × kc, lda floats apart) · b, where b is kc
// rows of ≥ 8·J floats, ldb apart (zero past column nv; 32-byte aligned for speed).
template <size_t R, size_t J>
PL_TARGET_AVX2 inline void kernel(const float* a, size_t lda, const float* b, size_t ldb, size_t kc,
                                  float* c, size_t ldc, bool load_c, size_t nv) {
    __m256 acc[R][J];
#pragma GCC unroll 8
    for (size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (size_t j = 0; j < J; ++j) acc[r][j] = _mm256_setzero_ps();
#pragma GCC unroll 2
    for (size_t k = 0; k < kc; ++k) {
        const float* bk = b + k * ldb;
        __m256 bv[J];
#pragma GCC unroll 4
        for (size_t j = 0; j < J; ++j) bv[j] = _mm256_loadu_ps(bk + 8 * j);
#pragma GCC unroll 8
        for (size_t r = 0; r < R; ++r) {
            const __m256 av = _mm256_broadcast_ss(a + r * lda + k);
#pragma GCC unroll 4
            for (size_t j = 0; j < J; ++j) acc[r][j] = _mm256_fmadd_ps(av, bv[j], acc[r][j]);
        }
    }
    if (nv >= 8 * J) {
#pragma GCC unroll 8
        for (size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
            for (size_t j = 0; j < J; ++j) {
                float* p = c + r * ldc + 8 * j;
                __m256 v = acc[r][j];
                if (load_c) v = _mm256_add_ps(_mm256_loadu_ps(p), v);
                _mm256_storeu_ps(p, v);
            }
        return;
    }
    // Unrolled with constant indices, or GCC keeps acc in memory for the whole k loop.
#pragma GCC unroll 8
    for (size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (size_t j = 0; j < J; ++j) {
            const __m256i m = tail_mask(nv > 8 * j ? nv - 8 * j : 0);
            float* p = c + r * ldc + 8 * j;
            __m256 v = acc[r][j];
            if (load_c) v = _mm256_add_ps(_mm256_maskload_ps(p, m), v);
            _mm256_maskstore_ps(p, m, v);
        }
}

using Kernel = void (*)(const float*, size_t, const float*, size_t, size_t, float*, size_t, bool,
                        size_t);

// kernels<J, MR>[R] is kernel<R, J> for R in 1 … MR (entry 0 unused).
template <size_t J, size_t... R>
constexpr auto make_table(std::index_sequence<R...>) {
    return std::array<Kernel, sizeof...(R) + 1>{nullptr, &kernel<R + 1, J>...};
}
template <size_t J, size_t MR>
inline constexpr auto kernels = make_table<J>(std::make_index_sequence<MR>{});

}  // namespace promptlens::fp32_tile_avx2
