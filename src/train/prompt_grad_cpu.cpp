#include "train/prompt_grad_cpu.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "linalg/gemm.hpp"
#include "model/gpt2_cpu_elementwise.hpp"
#include "model/gpt2_cpu_gemm.hpp"

namespace promptlens::train {
namespace {

constexpr size_t kBackCols = 128;  // output columns per OpenBLAS call of the backward GEMMs

// Row-wise LayerNorm of x (M×C): xhat, rstd kept; out = xhat·g + b. Double moments.
void layernorm_forward(ConstMatView x, std::span<const float> g, std::span<const float> b,
                       double eps, Matrix& xhat, std::vector<float>& rstd, MatView out,
                       int threads) {
    const size_t M = x.rows(), C = x.cols();
    parallel_for(chunk_count(M, 16), threads, [&](size_t blk) {
        for (size_t t = blk * 16; t < std::min(M, (blk + 1) * 16); ++t) {
            auto xr = x.row(t);
            double mean = 0, var = 0;
            for (float v : xr) mean += v;
            mean /= double(C);
            for (float v : xr) var += (v - mean) * (v - mean);
            var /= double(C);
            const double r = 1.0 / std::sqrt(var + eps);
            rstd[t] = float(r);
            for (size_t c = 0; c < C; ++c) {
                const float xh = float((xr[c] - mean) * r);
                xhat(t, c) = xh;
                out(t, c) = xh * g[c] + b[c];
            }
        }
    });
}

// dx_row += rstd·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat)), dxhat = dout·g.
void layernorm_backward_row(std::span<const float> dout, std::span<const float> xhat, float rstd,
                            std::span<const float> g, std::span<float> dx) {
    const size_t C = dout.size();
    double mean_d = 0, mean_dx = 0;
    for (size_t c = 0; c < C; ++c) {
        const double d = double(dout[c]) * g[c];
        mean_d += d;
        mean_dx += d * xhat[c];
    }
    const float md = float(mean_d / double(C)), mdx = float(mean_dx / double(C));
    for (size_t c = 0; c < C; ++c) dx[c] += rstd * (dout[c] * g[c] - md - xhat[c] * mdx);
}

// dX (M×K) = dY (M×N) · Wᵀ for a Conv1D weight W (K×N): fixed blocks of dX's columns.
void linear_backward(ConstMatView dy, ConstMatView W, MatView dx, int threads) {
    const size_t K = W.rows();
    parallel_for(chunk_count(K, kBackCols), threads, [&](size_t blk) {
        const size_t j0 = blk * kBackCols, j1 = std::min(K, j0 + kBackCols);
        MatView out(dx.data() + j0, dx.rows(), j1 - j0, dx.stride());
        blas::gemm(Trans::N, Trans::T, 1.0f, dy, W.row_range(j0, j1), 0.0f, out);
    });
}

// d gelu_new / dx = 0.5·(1 + t) + 0.5·x·(1 − t²)·k·(1 + 3·0.044715·x²), t = tanh(k·(x +
// 0.044715·x³)).
float gelu_new_grad(float x) {
    const float k = 0.7978845608028654f, c = 0.044715f;
    const float t = std::tanh(k * (x + c * x * x * x));
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * k * (1.0f + 3.0f * c * x * x);
}

// a·b over n floats with eight partial sums, so the compiler can vectorise it (fixed order: the
// same result on every call).
float dot(const float* a, const float* b, size_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (size_t l = 0; l < 8; ++l) acc[l] += a[i + l] * b[i + l];
    }
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
}

}  // namespace

struct PromptGradCpu::Tape {
    const PackedKvCache* cache = nullptr;
    size_t B = 0, P = 0;
    struct Layer {
        Matrix xhat1, qkv, xhat2, fc_pre;  // M×C, M×3C, M×C, M×I
        std::vector<float> rstd1, rstd2;
        std::vector<std::vector<float>> probs;  // per text: P×H×Tk
    };
    std::vector<Layer> layers;
    Matrix xhat_f;  // B×C at the last prompt rows
    std::vector<float> rstd_f;
};

PromptGradCpu::PromptGradCpu(const Gpt2CpuModel& model) : m_(model) {}
PromptGradCpu::~PromptGradCpu() = default;

Matrix PromptGradCpu::forward(const PackedKvCache& cache, ConstMatView prompt, int threads) {
    const Gpt2Weights& w = m_.weights;
    const auto& cfg = w.config;
    const size_t B = cache.count(), P = prompt.rows(), C = cfg.n_embd, H = cfg.n_head, hd = C / H;
    const size_t I = cfg.n_inner, M = B * P;
    require(B >= 1 && P >= 1 && prompt.cols() == C,
            "prompt gradient: {} texts and a {}×{} prompt for n_embd {}", B, P, prompt.cols(), C);
    auto t = std::make_unique<Tape>();
    t->cache = &cache;
    t->B = B;
    t->P = P;
    Matrix y(M, C), h(M, C), att(M, C), act(M, I);
    for (size_t b = 0; b < B; ++b) {
        const size_t start = cache.length(b);
        require(start + P <= cfg.n_positions,
                "prompt gradient: text {} has {} tokens; with the "
                "prompt that exceeds the model's {} positions",
                b, start, cfg.n_positions);
        for (size_t i = 0; i < P; ++i) {
            const float* pe = w.wpe.data() + (start + i) * C;
            for (size_t c = 0; c < C; ++c) y(b * P + i, c) = prompt(i, c) + pe[c];
        }
    }
    LinearScratch scratch;
    const std::vector<float> zero_bias(I, 0.0f);
    const float scale = float(1.0 / std::sqrt(double(hd)));
    t->layers.resize(cfg.n_layer);
    for (size_t l = 0; l < cfg.n_layer; ++l) {
        const auto& L = w.layers[l];
        const auto& K = m_.layers[l];
        Tape::Layer& s = t->layers[l];
        s.xhat1 = Matrix(M, C);
        s.rstd1.assign(M, 0);
        layernorm_forward(y, L.ln_1_w, L.ln_1_b, cfg.layer_norm_epsilon, s.xhat1, s.rstd1, h,
                          threads);
        s.qkv = Matrix(M, 3 * C);
        cpu_qkv(K, L.c_attn_b, h, s.qkv, threads, scratch);
        s.probs.assign(B, {});
        for (size_t b = 0; b < B; ++b) s.probs[b].assign(P * H * (cache.length(b) + P), 0.0f);
        std::fill(att.values().begin(), att.values().end(), 0.0f);
        parallel_for(B * H, threads, [&](size_t bh) {
            const size_t b = bh / H, head = bh % H, o = head * hd;
            const size_t Tp = cache.length(b), Tk = Tp + P, off = cache.offsets[b];
            for (size_t i = 0; i < P; ++i) {
                const float* q = s.qkv.row(b * P + i).data() + o;
                float* pr = s.probs[b].data() + (i * H + head) * Tk;
                const size_t last = Tp + i;
                for (size_t j = 0; j <= last; ++j) {
                    const float* kj = j < Tp ? cache.k[l].row(off + j).data() + o
                                             : s.qkv.row(b * P + j - Tp).data() + C + o;
                    pr[j] = dot(q, kj, hd) * scale;
                }
                softmax_inplace(pr, last + 1);
                float* out = att.row(b * P + i).data() + o;
                for (size_t j = 0; j <= last; ++j) {
                    const float* vj = j < Tp ? cache.v[l].row(off + j).data() + o
                                             : s.qkv.row(b * P + j - Tp).data() + 2 * C + o;
                    const float p = pr[j];
                    for (size_t d = 0; d < hd; ++d) out[d] += p * vj[d];
                }
            }
        });
        linear(att, K.attn_proj, L.attn_proj_b, Activation::none, true, y, threads, scratch);
        s.xhat2 = Matrix(M, C);
        s.rstd2.assign(M, 0);
        layernorm_forward(y, L.ln_2_w, L.ln_2_b, cfg.layer_norm_epsilon, s.xhat2, s.rstd2, h,
                          threads);
        s.fc_pre = Matrix(M, I);
        linear(h, K.fc, L.fc_b, Activation::none, false, s.fc_pre, threads, scratch);
        std::copy(s.fc_pre.values().begin(), s.fc_pre.values().end(), act.data());
        add_bias_gelu(act, zero_bias);  // the CPU model's vectorised gelu_new
        linear(act, K.mlp_proj, L.mlp_proj_b, Activation::none, true, y, threads, scratch);
    }
    Matrix last(B, C), out(B, C);
    for (size_t b = 0; b < B; ++b) {
        std::copy(y.row(b * P + P - 1).begin(), y.row(b * P + P - 1).end(), last.row(b).begin());
    }
    t->xhat_f = Matrix(B, C);
    t->rstd_f.assign(B, 0);
    layernorm_forward(last, w.ln_f_w, w.ln_f_b, cfg.layer_norm_epsilon, t->xhat_f, t->rstd_f, out,
                      threads);
    tape_ = std::move(t);
    return out;
}

MatrixD PromptGradCpu::backward(ConstMatView d_last, int threads) {
    require(tape_ != nullptr, "prompt gradient: backward without a forward");
    const Tape& t = *tape_;
    const Gpt2Weights& w = m_.weights;
    const auto& cfg = w.config;
    const size_t B = t.B, P = t.P, C = cfg.n_embd, H = cfg.n_head, hd = C / H, I = cfg.n_inner;
    const size_t M = B * P;
    const PackedKvCache& cache = *t.cache;
    require(d_last.rows() == B && d_last.cols() == C,
            "prompt gradient: d_last is {}×{}, expected {}×{}", d_last.rows(), d_last.cols(), B, C);
    const float scale = float(1.0 / std::sqrt(double(hd)));

    Matrix dy(M, C), dact(M, I), dh(M, C), datt(M, C), dqkv(M, 3 * C);
    for (size_t b = 0; b < B; ++b) {
        layernorm_backward_row(d_last.row(b), t.xhat_f.row(b), t.rstd_f[b], w.ln_f_w,
                               dy.row(b * P + P - 1));
    }
    for (size_t l = cfg.n_layer; l-- > 0;) {
        const auto& L = w.layers[l];
        const auto& K = m_.layers[l];
        const Tape::Layer& s = t.layers[l];
        // MLP.
        linear_backward(dy, K.mlp_proj.fp32(), dact, threads);
        parallel_for(chunk_count(M, 16), threads, [&](size_t blk) {
            for (size_t k = blk * 16 * I; k < std::min(M, (blk + 1) * 16) * I; ++k) {
                dact.data()[k] *= gelu_new_grad(s.fc_pre.data()[k]);
            }
        });
        linear_backward(dact, K.fc.fp32(), dh, threads);
        for (size_t r = 0; r < M; ++r) {
            layernorm_backward_row(dh.row(r), s.xhat2.row(r), s.rstd2[r], L.ln_2_w, dy.row(r));
        }
        // Attention, per text and head (each writes only its own rows and columns of dqkv).
        linear_backward(dy, K.attn_proj.fp32(), datt, threads);
        std::fill(dqkv.values().begin(), dqkv.values().end(), 0.0f);
        parallel_for(B * H, threads, [&](size_t bh) {
            const size_t b = bh / H, head = bh % H, o = head * hd;
            const size_t Tp = cache.length(b), Tk = Tp + P, off = cache.offsets[b];
            std::vector<float> dp(Tk);
            for (size_t i = 0; i < P; ++i) {
                const size_t last = Tp + i;
                const float* pr = s.probs[b].data() + (i * H + head) * Tk;
                const float* da = datt.row(b * P + i).data() + o;
                double pdp = 0;
                for (size_t j = 0; j <= last; ++j) {
                    const float* vj = j < Tp ? cache.v[l].row(off + j).data() + o
                                             : s.qkv.row(b * P + j - Tp).data() + 2 * C + o;
                    dp[j] = dot(da, vj, hd);
                    pdp += double(pr[j]) * dp[j];
                    if (j >= Tp) {
                        float* dv = dqkv.row(b * P + j - Tp).data() + 2 * C + o;
                        for (size_t d = 0; d < hd; ++d) dv[d] += pr[j] * da[d];
                    }
                }
                float* dq = dqkv.row(b * P + i).data() + o;
                const float* q = s.qkv.row(b * P + i).data() + o;
                for (size_t j = 0; j <= last; ++j) {
                    const float ds = pr[j] * (dp[j] - float(pdp)) * scale;
                    const float* kj = j < Tp ? cache.k[l].row(off + j).data() + o
                                             : s.qkv.row(b * P + j - Tp).data() + C + o;
                    for (size_t d = 0; d < hd; ++d) dq[d] += ds * kj[d];
                    if (j >= Tp) {
                        float* dk = dqkv.row(b * P + j - Tp).data() + C + o;
                        for (size_t d = 0; d < hd; ++d) dk[d] += ds * q[d];
                    }
                }
            }
        });
        linear_backward(dqkv, ConstMatView(L.c_attn_w.data(), C, 3 * C), dh, threads);
        for (size_t r = 0; r < M; ++r) {
            layernorm_backward_row(dh.row(r), s.xhat1.row(r), s.rstd1[r], L.ln_1_w, dy.row(r));
        }
    }
    MatrixD grad(P, C);
    for (size_t b = 0; b < B; ++b) {  // text order
        for (size_t i = 0; i < P; ++i) {
            for (size_t c = 0; c < C; ++c) grad(i, c) += dy(b * P + i, c);
        }
    }
    return grad;
}

}  // namespace promptlens::train
