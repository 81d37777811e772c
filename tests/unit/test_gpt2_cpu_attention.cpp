// Causal attention of one head (model/gpt2_cpu_attention.hpp) against a double-precision oracle:
// the AVX-512 tiles and the OpenBLAS blocks, with and without a past, on lengths that cross the
// 48-key panels and 64-row blocks, and head dims that fill 1 … 4 registers or exceed them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/rng.hpp"
#include "kernel_tiers.hpp"
#include "model/gpt2_cpu_attention.hpp"

namespace promptlens {
namespace {

// Rows of one head inside a wider matrix, as in the passes (q, k, v: T × hd at stride C).
struct Head {
    size_t T, hd, C;
    std::vector<float> q, k, v;
    Head(size_t T_, size_t hd_, uint64_t seed) : T(T_), hd(hd_), C(3 * hd_ + 5) {
        Rng rng(seed, 0);
        for (auto* x : {&q, &k, &v}) {
            x->resize(T * C);
            for (float& f : *x) f = float(rng.normal());
        }
    }
    ConstMatView rows(const std::vector<float>& x, size_t b, size_t e) const {
        return ConstMatView(x.data() + b * C + 1, e - b, hd, C);
    }
};

// out row i (of rows [Tp, T)) = softmax(scale · q_i·k_j, j ≤ i) · v, in double.
std::vector<double> oracle(const Head& h, size_t Tp, float scale) {
    std::vector<double> out((h.T - Tp) * h.hd);
    for (size_t i = Tp; i < h.T; ++i) {
        std::vector<double> s(i + 1);
        double m = -INFINITY, z = 0;
        for (size_t j = 0; j <= i; ++j) {
            double d = 0;
            for (size_t c = 0; c < h.hd; ++c)
                d += double(h.q[i * h.C + 1 + c]) * h.k[j * h.C + 1 + c];
            s[j] = double(scale) * d;
            m = std::max(m, s[j]);
        }
        for (double& x : s) z += (x = std::exp(x - m));
        for (size_t c = 0; c < h.hd; ++c) {
            double acc = 0;
            for (size_t j = 0; j <= i; ++j) acc += s[j] / z * h.v[j * h.C + 1 + c];
            out[(i - Tp) * h.hd + c] = acc;
        }
    }
    return out;
}

std::vector<float> run(const Head& h, size_t Tp, float scale) {
    const size_t Tq = h.T - Tp;
    std::vector<float> scratch(attention_scratch_floats(Tp, Tq, h.hd), NAN);
    std::vector<float> out(Tq * h.hd, NAN);
    attend(h.rows(h.q, Tp, h.T), h.rows(h.k, 0, Tp), h.rows(h.v, 0, Tp), h.rows(h.k, Tp, h.T),
           h.rows(h.v, Tp, h.T), scale, scratch.data(), MatView(out.data(), Tq, h.hd, h.hd));
    return out;
}

double max_err(const std::vector<float>& got, const std::vector<double>& ref) {
    double e = 0;
    for (size_t i = 0; i < ref.size(); ++i) e = std::max(e, std::fabs(got[i] - ref[i]));
    return e;
}

TEST(Gpt2CpuAttention, MatchesADoubleOracleOnEveryPath) {
    double worst = 0;
    for (KernelTier tier : test::supported_tiers()) {
        const test::TierScope scope(tier);
        for (size_t T : {1, 7, 47, 48, 49, 64, 65, 150, 289})
            for (size_t hd : {8, 16, 24, 64, 80})
                for (size_t Tp : {size_t{0}, T / 2}) {
                    if (Tp >= T) continue;
                    const Head h(T, hd, 100 * T + hd);
                    const float scale = 1.0f / std::sqrt(float(hd));
                    const double e = max_err(run(h, Tp, scale), oracle(h, Tp, scale));
                    worst = std::max(worst, e);
                    // float32 dot products of ≤ 80 terms and sums of ≤ 289 weights of N(0,1)
                    // values: measured ≤ 1e-6 here.
                    EXPECT_LE(e, 1e-5) << "T " << T << " hd " << hd << " past " << Tp << " "
                                       << kernel_tier_name(tier);
                }
    }
    std::cout << "[ attention ] vs double oracle: max|diff| = " << worst << "\n";
}

// Row i sees keys 0 … i only: the first rows of a longer text are the same bytes as the whole
// of the shorter one (the tiles of avx512 and avx2 are anchored at fixed blocks; extra keys add
// exact zeros).
TEST(Gpt2CpuAttention, ARowIgnoresLaterKeysToTheBit) {
    const auto tiers = test::supported_tiers();
    if (tiers.size() == 1) GTEST_SKIP() << "no AVX2 on this CPU";
    const Head longer(300, 64, 5);
    for (KernelTier tier : tiers) {
        if (tier == KernelTier::portable) continue;
        const test::TierScope scope(tier);
        const auto all = run(longer, 0, 0.125f);
        for (size_t T : {1, 50, 64, 100, 299}) {
            Head shorter = longer;
            shorter.T = T;
            const auto part = run(shorter, 0, 0.125f);
            EXPECT_EQ(0, std::memcmp(part.data(), all.data(), part.size() * sizeof(float)))
                << T << " " << kernel_tier_name(tier);
        }
    }
}

}  // namespace
}  // namespace promptlens
