#include "embed/tsne_attraction.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "core/error.hpp"

namespace promptlens {
namespace {

constexpr size_t kLanes = 8;

// ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)): the one order both paths add lanes in.
double lane_sum(const double* l) {
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

void check_args(const CsrMatrix& p, std::span<const double> y, size_t dims, size_t begin,
                size_t end) {
    require(dims >= 1 && dims <= 8, "t-SNE attraction: {} dimensions; supported 1 to 8", dims);
    require(y.size() == p.n * dims, "t-SNE attraction: {} coordinates for {} points × {} dims",
            y.size(), p.n, dims);
    require(begin <= end && end <= p.n, "t-SNE attraction: rows [{}, {}) outside [0, {})", begin,
            end, p.n);
}

#if defined(__x86_64__)
// dims == 2; y indices doubled must fit an int32 (checked by the caller).
__attribute__((target("avx512f,avx512vl"))) void attraction2_avx512(const CsrMatrix& p,
                                                                    double exaggeration,
                                                                    const double* y, size_t begin,
                                                                    size_t end, double* attr) {
    const __m512d one = _mm512_set1_pd(1.0), ex = _mm512_set1_pd(exaggeration);
    const __m512d zero = _mm512_setzero_pd();
    const int32_t* indices = p.indices.data();
    const double* values = p.values.data();
    alignas(64) double lanes[2][kLanes];
    for (size_t i = begin; i < end; ++i) {
        const __m512d yi0 = _mm512_set1_pd(y[2 * i]), yi1 = _mm512_set1_pd(y[2 * i + 1]);
        __m512d a0 = zero, a1 = zero;
        const auto row_end = static_cast<size_t>(p.indptr[i + 1]);
        for (auto e = static_cast<size_t>(p.indptr[i]); e < row_end; e += kLanes) {
            const size_t left = row_end - e;
            const __mmask8 m =
                left >= kLanes ? __mmask8(0xFF) : static_cast<__mmask8>((1u << left) - 1u);
            const __m256i j2 = _mm256_slli_epi32(_mm256_maskz_loadu_epi32(m, indices + e), 1);
            const __m512d yj0 = _mm512_mask_i32gather_pd(zero, m, j2, y, 8);
            const __m512d yj1 = _mm512_mask_i32gather_pd(zero, m, j2, y + 1, 8);
            const __m512d dx = _mm512_sub_pd(yi0, yj0), dy = _mm512_sub_pd(yi1, yj1);
            const __m512d d2 = _mm512_add_pd(_mm512_mul_pd(dx, dx), _mm512_mul_pd(dy, dy));
            const __m512d w = _mm512_div_pd(one, _mm512_add_pd(one, d2));
            const __m512d pe = _mm512_mul_pd(ex, _mm512_maskz_loadu_pd(m, values + e));
            const __m512d coef = _mm512_mul_pd(pe, w);
            a0 = _mm512_mask_add_pd(a0, m, a0, _mm512_mul_pd(coef, dx));
            a1 = _mm512_mask_add_pd(a1, m, a1, _mm512_mul_pd(coef, dy));
        }
        _mm512_store_pd(lanes[0], a0);
        _mm512_store_pd(lanes[1], a1);
        attr[(i - begin) * 2] = lane_sum(lanes[0]);
        attr[(i - begin) * 2 + 1] = lane_sum(lanes[1]);
    }
}

bool have_avx512() {
    static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
    return yes;
}
#endif

}  // namespace

void tsne_attraction_portable(const CsrMatrix& p, double exaggeration, std::span<const double> y,
                              size_t dims, size_t begin, size_t end, double* attr) {
    check_args(p, y, dims, begin, end);
    double lanes[8][kLanes];
    for (size_t i = begin; i < end; ++i) {
        const double* yi = y.data() + i * dims;
        for (size_t c = 0; c < dims; ++c) std::fill(lanes[c], lanes[c] + kLanes, 0.0);
        const auto row_begin = static_cast<size_t>(p.indptr[i]);
        const auto row_end = static_cast<size_t>(p.indptr[i + 1]);
        for (size_t e = row_begin; e < row_end; ++e) {
            const size_t lane = (e - row_begin) % kLanes;
            const double* yj = y.data() + static_cast<size_t>(p.indices[e]) * dims;
            double diff[8];
            double d2 = 0;
            for (size_t c = 0; c < dims; ++c) {
                diff[c] = yi[c] - yj[c];
                d2 = c == 0 ? diff[c] * diff[c] : d2 + diff[c] * diff[c];
            }
            const double w = 1.0 / (1.0 + d2);
            const double coef = (exaggeration * p.values[e]) * w;
            for (size_t c = 0; c < dims; ++c) lanes[c][lane] += coef * diff[c];
        }
        for (size_t c = 0; c < dims; ++c) attr[(i - begin) * dims + c] = lane_sum(lanes[c]);
    }
}

void tsne_attraction(const CsrMatrix& p, double exaggeration, std::span<const double> y,
                     size_t dims, size_t begin, size_t end, double* attr) {
#if defined(__x86_64__)
    if (dims == 2 && have_avx512() &&
        p.n <= static_cast<size_t>(std::numeric_limits<int32_t>::max() / 2)) {
        check_args(p, y, dims, begin, end);
        attraction2_avx512(p, exaggeration, y.data(), begin, end, attr);
        return;
    }
#endif
    tsne_attraction_portable(p, exaggeration, y, dims, begin, end, attr);
}

namespace reference {

void tsne_attraction(const CsrMatrix& p, double exaggeration, std::span<const double> y,
                     size_t dims, size_t begin, size_t end, double* attr) {
    check_args(p, y, dims, begin, end);
    for (size_t i = begin; i < end; ++i) {
        const double* yi = y.data() + i * dims;
        double* ai = attr + (i - begin) * dims;
        std::fill(ai, ai + dims, 0.0);
        for (auto e = static_cast<size_t>(p.indptr[i]); e < static_cast<size_t>(p.indptr[i + 1]);
             ++e) {
            const double* yj = y.data() + static_cast<size_t>(p.indices[e]) * dims;
            const double coef = exaggeration * p.values[e] * tsne_kernel(yi, yj, dims);
            for (size_t c = 0; c < dims; ++c) ai[c] += coef * (yi[c] - yj[c]);
        }
    }
}

}  // namespace reference
}  // namespace promptlens
