// GCC will not if-convert the clamps in exp_approx (so the GELU loop would not vectorise) while it
// must preserve floating-point exception flags. Nothing here reads them.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

#include "model/gpt2_cpu_elementwise.hpp"

#include <immintrin.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <numbers>

#include "model/fp32_tile.hpp"
#include "model/fp32_tile_avx2.hpp"
#include "model/kernel_tier.hpp"

namespace promptlens {
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

// exp_inline on 8 lanes (the same clamps and polynomial as exp512, so the same bits).
PL_TARGET_AVX2 inline __m256 exp256(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(std::numbers::log2e_v<float>)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    // 2^n for n in [-126, 127] (x is clamped): the exponent field built directly.
    const __m256i e =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

// bias_gelu_loop on 8 lanes (a true division: vdivps costs little next to the rest here).
PL_TARGET_AVX2 void bias_gelu_avx2(MatView y, std::span<const float> bias) {
    const __m256 k = _mm256_set1_ps(float(std::sqrt(2.0 / std::numbers::pi)));
    const __m256 c = _mm256_set1_ps(0.044715f), one = _mm256_set1_ps(1.0f);
    const __m256 minus_two = _mm256_set1_ps(-2.0f);
    const size_t n = y.cols();
    for (size_t t = 0; t < y.rows(); ++t) {
        float* r = y.row(t).data();
        for (size_t j = 0; j < n; j += 8) {
            const __m256i m = fp32_tile_avx2::tail_mask(n - j);
            const __m256 v =
                _mm256_add_ps(_mm256_maskload_ps(r + j, m), _mm256_maskload_ps(&bias[j], m));
            const __m256 u =
                _mm256_mul_ps(k, _mm256_fmadd_ps(_mm256_mul_ps(c, v), _mm256_mul_ps(v, v), v));
            const __m256 d = _mm256_add_ps(one, exp256(_mm256_mul_ps(minus_two, u)));
            _mm256_maskstore_ps(r + j, m, _mm256_div_ps(v, d));
        }
    }
}

// softmax_loop on 8 lanes with exp256 (masked tail; lane sums added in lane order).
PL_TARGET_AVX2 void softmax_avx2(float* r, size_t n, float scale) {
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 mx = ninf;
    for (size_t i = 0; i < n; i += 8) {
        const __m256i m = fp32_tile_avx2::tail_mask(n - i);
        mx = _mm256_max_ps(
            mx, _mm256_blendv_ps(ninf, _mm256_maskload_ps(r + i, m), _mm256_castsi256_ps(m)));
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, mx);
    float hi = lanes[0];
    for (float l : lanes) hi = l > hi ? l : hi;
    const __m256 top = _mm256_set1_ps(scale * hi);
    const __m256 sc = _mm256_set1_ps(scale);
    __m256 sum = _mm256_setzero_ps();
    for (size_t i = 0; i < n; i += 8) {
        const __m256i m = fp32_tile_avx2::tail_mask(n - i);
        const __m256 e = exp256(_mm256_fmsub_ps(sc, _mm256_maskload_ps(r + i, m), top));
        _mm256_maskstore_ps(r + i, m, e);
        sum = _mm256_add_ps(sum, _mm256_and_ps(e, _mm256_castsi256_ps(m)));
    }
    _mm256_store_ps(lanes, sum);
    float total = 0;
    for (float l : lanes) total += l;
    const __m256 inv = _mm256_set1_ps(1.0f / total);
    for (size_t i = 0; i < n; i += 8) {
        const __m256i m = fp32_tile_avx2::tail_mask(n - i);
        _mm256_maskstore_ps(r + i, m, _mm256_mul_ps(_mm256_maskload_ps(r + i, m), inv));
    }
}

#pragma GCC diagnostic pop

}  // namespace

float exp_approx(float x) {
    return exp_inline(x);
}

void softmax_inplace(float* r, size_t n, float scale) {
    switch (kernel_tier()) {
        case KernelTier::avx512:
            return softmax_avx512(r, n, scale);
        case KernelTier::avx2:
            return softmax_avx2(r, n, scale);
        case KernelTier::portable:
            return softmax_loop(r, n, scale);
    }
}

void add_bias(MatView y, std::span<const float> bias) {
    for (size_t t = 0; t < y.rows(); ++t) {
        float* r = y.row(t).data();
        for (size_t j = 0; j < y.cols(); ++j) r[j] += bias[j];
    }
}

void add_bias_gelu(MatView y, std::span<const float> bias) {
    switch (kernel_tier()) {
        case KernelTier::avx512:
            return bias_gelu_avx512(y, bias);
        case KernelTier::avx2:
            return bias_gelu_avx2(y, bias);
        case KernelTier::portable:
            return bias_gelu_loop(y, bias);
    }
}

}  // namespace promptlens
