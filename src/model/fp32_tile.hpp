// The AVX-512 fp32 register-tile kernel shared by the linear layers (model/gpt2_cpu_gemm.cpp) and
// attention (model/gpt2_cpu_attention.cpp): R rows × J registers of 16 columns, R·J accumulators,
// one broadcast of A per row and k, J loads of the packed B per k.
//
// Every output element is one chain of FMAs in k order, whatever R, J or where the tile sits, so
// a row's result never depends on the rows computed beside it. Only call it when the CPU has
// AVX-512 (cpu_has_avx512f()).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#define PL_TARGET_F32 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

namespace promptlens::fp32_tile {

// The mask of a 16-lane register whose first min(left, 16) lanes are valid.
inline __mmask16 tail_mask(size_t left) {
    return left >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((uint32_t{1} << left) - 1);
}

// Masks of J 16-column registers for the first nv (≤ 16·J) valid columns.
template <size_t J>
PL_TARGET_F32 inline void column_masks(size_t nv, __mmask16 (&m)[J]) {
    for (size_t j = 0; j < J; ++j) m[j] = tail_mask(nv > 16 * j ? nv - 16 * j : 0);
}

// c (R × nv, ldc apart) = (load_c ? c : 0) + a (R rows × kc, lda floats apart) · b, where b is kc
// rows of 16·J floats (zero past column nv; 64-byte aligned for speed).
template <size_t R, size_t J>
PL_TARGET_F32 inline void kernel(const float* a, size_t lda, const float* b, size_t kc, float* c,
                                 size_t ldc, bool load_c, size_t nv) {
    __m512 acc[R][J];
#pragma GCC unroll 8
    for (size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (size_t j = 0; j < J; ++j) acc[r][j] = _mm512_setzero_ps();
#pragma GCC unroll 2
    for (size_t k = 0; k < kc; ++k) {
        const float* bk = b + k * 16 * J;
        __m512 bv[J];
#pragma GCC unroll 4
        for (size_t j = 0; j < J; ++j) bv[j] = _mm512_loadu_ps(bk + 16 * j);
#pragma GCC unroll 8
        for (size_t r = 0; r < R; ++r) {
            const __m512 av = _mm512_set1_ps(a[r * lda + k]);
#pragma GCC unroll 4
            for (size_t j = 0; j < J; ++j) acc[r][j] = _mm512_fmadd_ps(av, bv[j], acc[r][j]);
        }
    }
    __mmask16 m[J];
    column_masks<J>(nv, m);
#pragma GCC unroll 8
    for (size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (size_t j = 0; j < J; ++j) {
            float* p = c + r * ldc + 16 * j;
            __m512 v = acc[r][j];
            if (load_c) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m[j], p), v);
            _mm512_mask_storeu_ps(p, m[j], v);
        }
}

using Kernel = void (*)(const float*, size_t, const float*, size_t, float*, size_t, bool, size_t);

// kernels<J, MR>()[R] is kernel<R, J> for R in 1 … MR (entry 0 unused).
template <size_t J, size_t... R>
constexpr auto make_table(std::index_sequence<R...>) {
    return std::array<Kernel, sizeof...(R) + 1>{nullptr, &kernel<R + 1, J>...};
}
template <size_t J, size_t MR>
inline constexpr auto kernels = make_table<J>(std::make_index_sequence<MR>{});

}  // namespace promptlens::fp32_tile
