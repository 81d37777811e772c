#include "model/gpt2_cpu_attention.hpp"

#include <algorithm>
#include <cstdint>

#include "core/parallel.hpp"
#include "linalg/gemm.hpp"
#include "model/fp32_tile.hpp"
#include "model/fp32_tile_avx2.hpp"
#include "model/gpt2_cpu_elementwise.hpp"
#include "model/kernel_tier.hpp"

namespace promptlens {
namespace {

constexpr size_t kBlock = 64;  // query rows per block (the text pass)
constexpr size_t kKeys = 48;   // keys per packed Kᵀ panel (3 registers)
constexpr size_t kRowsS = 8;   // rows per score tile
constexpr size_t kRowsO = 6;   // rows per output tile (up to 4 registers wide)
constexpr size_t kMaxHeadDim = 64;

// The tiled path's scratch, laid out from a 64-byte-aligned start: Kᵀ panels (hd × 48 each),
// V rows padded to 16·J floats, one block of scores (64 × keys rounded up to a panel).
struct CausalLayout {
    size_t panels, vw, kt, vp, s, lds, total;
    CausalLayout(size_t T, size_t hd) {
        panels = chunk_count(T, kKeys);
        vw = chunk_count(hd, 16) * 16;
        lds = panels * kKeys;
        kt = 0;
        vp = kt + panels * hd * kKeys;
        s = vp + T * vw;
        total = s + kBlock * lds + 16;  // + 16: room to align the start
    }
};

// Row r of a score block: scale, softmax over its n valid keys, zeros up to `width`.
void softmax_row(float* r, size_t n, size_t width, float scale) {
    softmax_inplace(r, n, scale);
    std::fill(r + n, r + width, 0.0f);
}

// The register tiles of the packed path, per tier. score: rows (≤ 8) × one 48-key panel of Kᵀ
// (hd × 48) → s. output: rows (≤ 6) × hd of P·V over the first `keys` keys (V rows vw apart).
template <size_t J>
struct Avx512Tiles {
    static void score(const float* q, size_t ldq, const float* kt, size_t hd, float* s, size_t lds,
                      size_t rows) {
        fp32_tile::kernels<3, kRowsS>[rows](q, ldq, kt, hd, s, lds, false, kKeys);
    }
    static void output(const float* s, size_t lds, const float* vp, size_t /*vw*/, size_t keys,
                       float* out, size_t ldo, size_t rows, size_t hd) {
        fp32_tile::kernels<J, kRowsO>[rows](s, lds, vp, keys, out, ldo, false, hd);
    }
};
// AVX2: scores as 4-row × 24-key tiles, P·V as 6-row × 16-column tiles.
struct Avx2Tiles {
    static void score(const float* q, size_t ldq, const float* kt, size_t hd, float* s, size_t lds,
                      size_t rows) {
        for (size_t r = 0; r < rows; r += 4)
            for (size_t h = 0; h < kKeys; h += 24)
                fp32_tile_avx2::kernels<3, 4>[std::min<size_t>(4, rows - r)](
                    q + r * ldq, ldq, kt + h, kKeys, hd, s + r * lds + h, lds, false, 24);
    }
    static void output(const float* s, size_t lds, const float* vp, size_t vw, size_t keys,
                       float* out, size_t ldo, size_t rows, size_t hd) {
        for (size_t c = 0; c < hd; c += 16)
            fp32_tile_avx2::kernels<2, kRowsO>[rows](s, lds, vp + c, vw, keys, out + c, ldo, false,
                                                     std::min<size_t>(16, hd - c));
    }
};

template <class Tiles>
void causal_tiled(ConstMatView q, ConstMatView k, ConstMatView v, float scale, float* scratch,
                  MatView out) {
    const size_t T = q.rows(), hd = q.cols();
    const CausalLayout L(T, hd);
    auto* base =
        reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t{63});
    float* kt = base + L.kt;
    float* vp = base + L.vp;
    float* s = base + L.s;
    std::fill(kt + (L.panels - 1) * hd * kKeys, kt + L.panels * hd * kKeys, 0.0f);
    for (size_t t = 0; t < T; ++t) {  // Kᵀ: key rows read once, written 48 floats apart
        const float* src = k.row(t).data();
        float* dst = kt + (t / kKeys) * hd * kKeys + t % kKeys;
        for (size_t d = 0; d < hd; ++d) dst[d * kKeys] = src[d];
    }
    for (size_t t = 0; t < T; ++t) {
        std::copy(v.row(t).begin(), v.row(t).end(), vp + t * L.vw);
        std::fill(vp + t * L.vw + hd, vp + (t + 1) * L.vw, 0.0f);
    }
    for (size_t i0 = 0; i0 < T; i0 += kBlock) {
        const size_t i1 = std::min(T, i0 + kBlock);
        for (size_t m0 = i0; m0 < i1; m0 += kRowsS) {
            const size_t rows = std::min(kRowsS, i1 - m0), last = m0 + rows - 1;
            for (size_t p = 0; p <= last / kKeys; ++p)
                Tiles::score(q.row(m0).data(), q.stride(), kt + p * hd * kKeys, hd,
                             s + (m0 - i0) * L.lds + p * kKeys, L.lds, rows);
        }
        for (size_t i = i0; i < i1; ++i) softmax_row(s + (i - i0) * L.lds, i + 1, i1, scale);
        for (size_t m0 = i0; m0 < i1; m0 += kRowsO) {
            const size_t rows = std::min(kRowsO, i1 - m0);
            Tiles::output(s + (m0 - i0) * L.lds, L.lds, vp, L.vw, m0 + rows, out.row(m0).data(),
                          out.stride(), rows, hd);
        }
    }
}

// The same blocks with OpenBLAS (portable tier, head_dim > 64).
void causal_blas(ConstMatView q, ConstMatView k, ConstMatView v, float scale, float* scratch,
                 MatView out) {
    const size_t T = q.rows();
    for (size_t i0 = 0; i0 < T; i0 += kBlock) {
        const size_t i1 = std::min(T, i0 + kBlock);
        MatView sb(scratch, i1 - i0, i1, i1);
        blas::gemm(Trans::N, Trans::T, 1.0f, q.row_range(i0, i1), k.row_range(0, i1), 0.0f, sb);
        for (size_t i = i0; i < i1; ++i) softmax_row(sb.row(i - i0).data(), i + 1, i1, scale);
        blas::gemm(Trans::N, Trans::N, 1.0f, sb, v.row_range(0, i1), 0.0f, out.row_range(i0, i1));
    }
}

}  // namespace

size_t attention_scratch_floats(size_t Tp, size_t Tq, size_t head_dim) {
    if (Tp > 0) return Tq * (Tp + Tq);
    return std::max(CausalLayout(Tq, head_dim).total, kBlock * Tq);
}

void attend(ConstMatView q, ConstMatView kp, ConstMatView vp, ConstMatView kn, ConstMatView vn,
            float scale, float* scratch, MatView out) {
    const size_t Tq = q.rows(), Tp = kp.rows(), Tk = Tp + Tq, hd = q.cols();
    if (Tp == 0) {
        const KernelTier tier = kernel_tier();
        if (tier == KernelTier::portable || hd > kMaxHeadDim)
            return causal_blas(q, kn, vn, scale, scratch, out);
        if (tier == KernelTier::avx2)
            return causal_tiled<Avx2Tiles>(q, kn, vn, scale, scratch, out);
        switch ((hd + 15) / 16) {
            case 1:
                return causal_tiled<Avx512Tiles<1>>(q, kn, vn, scale, scratch, out);
            case 2:
                return causal_tiled<Avx512Tiles<2>>(q, kn, vn, scale, scratch, out);
            case 3:
                return causal_tiled<Avx512Tiles<3>>(q, kn, vn, scale, scratch, out);
            default:
                return causal_tiled<Avx512Tiles<4>>(q, kn, vn, scale, scratch, out);
        }
    }
    MatView s(scratch, Tq, Tk);
    MatView s_past(scratch, Tq, Tp, Tk), s_new(scratch + Tp, Tq, Tq, Tk);
    blas::gemm(Trans::N, Trans::T, scale, q, kp, 0.0f, s_past);
    blas::gemm(Trans::N, Trans::T, scale, q, kn, 0.0f, s_new);
    for (size_t i = 0; i < Tq; ++i) {
        float* r = s.row(i).data();
        const size_t n = Tp + i + 1;
        softmax_inplace(r, n);
        std::fill(r + n, r + Tk, 0.0f);
    }
    blas::gemm(Trans::N, Trans::N, 1.0f, s_past, vp, 0.0f, out);
    blas::gemm(Trans::N, Trans::N, 1.0f, s_new, vn, 1.0f, out);
}

}  // namespace promptlens
