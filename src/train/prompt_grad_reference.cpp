#include "train/prompt_grad_reference.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.hpp"

namespace promptlens::train {
namespace {

// LayerNorm forward on x (P×C): xhat = (x − mean)·rstd (kept), out = xhat·g + b.
void layernorm_forward(const MatrixD& x, std::span<const float> g, std::span<const float> b,
                       double eps, MatrixD& xhat, std::vector<double>& rstd, MatrixD& out) {
    const size_t P = x.rows(), C = x.cols();
    xhat = MatrixD(P, C);
    out = MatrixD(P, C);
    rstd.assign(P, 0.0);
    for (size_t t = 0; t < P; ++t) {
        auto xr = x.row(t);
        double mean = 0;
        for (double v : xr) mean += v;
        mean /= double(C);
        double var = 0;
        for (double v : xr) var += (v - mean) * (v - mean);
        var /= double(C);
        rstd[t] = 1.0 / std::sqrt(var + eps);
        for (size_t c = 0; c < C; ++c) {
            xhat(t, c) = (xr[c] - mean) * rstd[t];
            out(t, c) = xhat(t, c) * g[c] + b[c];
        }
    }
}

// LayerNorm backward for one row: dout (C) → dx (C), added into dx.
// dxhat = dout·g;  dx = rstd·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat)).
void layernorm_backward_row(std::span<const double> dout, std::span<const double> xhat, double rstd,
                            std::span<const float> g, std::span<double> dx) {
    const size_t C = dout.size();
    double mean_d = 0, mean_dx = 0;
    for (size_t c = 0; c < C; ++c) {
        const double d = dout[c] * g[c];
        mean_d += d;
        mean_dx += d * xhat[c];
    }
    mean_d /= double(C);
    mean_dx /= double(C);
    for (size_t c = 0; c < C; ++c) {
        dx[c] += rstd * (dout[c] * g[c] - mean_d - xhat[c] * mean_dx);
    }
}

// y (P×out) = x (P×in) · W (in×out) + bias: a Conv1D layer.
MatrixD linear_forward(const MatrixD& x, std::span<const float> W, std::span<const float> bias,
                       size_t out_dim) {
    const size_t P = x.rows(), in_dim = x.cols();
    MatrixD y(P, out_dim);
    for (size_t t = 0; t < P; ++t) {
        auto yr = y.row(t);
        for (size_t j = 0; j < out_dim; ++j) yr[j] = bias[j];
        for (size_t i = 0; i < in_dim; ++i) {
            const double xi = x(t, i);
            const float* wr = W.data() + i * out_dim;
            for (size_t j = 0; j < out_dim; ++j) yr[j] += xi * wr[j];
        }
    }
    return y;
}

// dx (P×in) = dy (P×out) · Wᵀ, W in×out.
MatrixD linear_backward(const MatrixD& dy, std::span<const float> W, size_t in_dim) {
    const size_t P = dy.rows(), out_dim = dy.cols();
    MatrixD dx(P, in_dim);
    for (size_t t = 0; t < P; ++t) {
        auto dyr = dy.row(t);
        for (size_t i = 0; i < in_dim; ++i) {
            const float* wr = W.data() + i * out_dim;
            double s = 0;
            for (size_t j = 0; j < out_dim; ++j) s += dyr[j] * wr[j];
            dx(t, i) = s;
        }
    }
    return dx;
}

constexpr double kGeluCubic = 0.044715;
double gelu_k() {
    return std::sqrt(2.0 / std::numbers::pi);
}

// gelu_new(x) = 0.5·x·(1 + tanh(k·(x + 0.044715·x³))), k = sqrt(2/π).
double gelu_new(double x) {
    return 0.5 * x * (1.0 + std::tanh(gelu_k() * (x + kGeluCubic * x * x * x)));
}

// Its derivative: 0.5·(1 + t) + 0.5·x·(1 − t²)·k·(1 + 3·0.044715·x²), t = tanh(k·(x + …)).
double gelu_new_grad(double x) {
    const double k = gelu_k();
    const double t = std::tanh(k * (x + kGeluCubic * x * x * x));
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * k * (1.0 + 3.0 * kGeluCubic * x * x);
}

}  // namespace

PromptTape reference_prompt_forward(const Gpt2Weights& w, const KvCache& cache,
                                    const MatrixD& prompt, std::optional<size_t> position_start) {
    const auto& cfg = w.config;
    const size_t P = prompt.rows(), C = cfg.n_embd, H = cfg.n_head, hd = C / H;
    const size_t Tp = cache.length, Tk = Tp + P, I = cfg.n_inner;
    const double eps = cfg.layer_norm_epsilon;
    require(P >= 1, "prompt gradient: the prompt has no rows");
    require(prompt.cols() == C, "prompt gradient: the prompt is {}×{} but the model's n_embd is {}",
            P, prompt.cols(), C);
    require(cache.k.size() == cfg.n_layer && cache.v.size() == cfg.n_layer,
            "prompt gradient: the cache has {} layers, the model {}", cache.k.size(), cfg.n_layer);
    PromptTape tape;
    tape.prompt_rows = P;
    tape.position_start = position_start.value_or(Tp);
    require(tape.position_start + P <= cfg.n_positions,
            "prompt gradient: prompt positions {} … {} exceed the model's {} positions",
            tape.position_start, tape.position_start + P - 1, cfg.n_positions);

    // y (P×C) = prompt + wpe[start … start+P).
    MatrixD y(P, C);
    for (size_t i = 0; i < P; ++i) {
        const float* p = w.wpe.data() + (tape.position_start + i) * C;
        for (size_t c = 0; c < C; ++c) y(i, c) = prompt(i, c) + p[c];
    }
    const double scale = 1.0 / std::sqrt(double(hd));
    tape.layers.resize(cfg.n_layer);
    for (size_t l = 0; l < cfg.n_layer; ++l) {
        const auto& L = w.layers[l];
        LayerTape& s = tape.layers[l];
        // Attention on ln_1(y): q, k, v (P×C each) from c_attn, columns q | k | v.
        MatrixD h;
        layernorm_forward(y, L.ln_1_w, L.ln_1_b, eps, s.xhat1, s.rstd1, h);
        const MatrixD qkv = linear_forward(h, L.c_attn_w, L.c_attn_b, 3 * C);
        s.q = MatrixD(P, C);
        s.k = MatrixD(P, C);
        s.v = MatrixD(P, C);
        for (size_t t = 0; t < P; ++t) {
            for (size_t c = 0; c < C; ++c) {
                s.q(t, c) = qkv(t, c);
                s.k(t, c) = qkv(t, C + c);
                s.v(t, c) = qkv(t, 2 * C + c);
            }
        }
        // Key/value j: cached text row j < Tp, else prompt row j − Tp.
        auto key = [&](size_t j, size_t d) {
            return j < Tp ? double(cache.k[l](j, d)) : s.k(j - Tp, d);
        };
        auto value = [&](size_t j, size_t d) {
            return j < Tp ? double(cache.v[l](j, d)) : s.v(j - Tp, d);
        };
        s.probs.assign(P * H * Tk, 0.0);
        MatrixD att(P, C);
        for (size_t t = 0; t < P; ++t) {
            const size_t last = Tp + t;
            for (size_t head = 0; head < H; ++head) {
                double* pr = s.probs.data() + (t * H + head) * Tk;
                const size_t o = head * hd;
                double mx = -INFINITY;
                for (size_t j = 0; j <= last; ++j) {
                    double dot = 0;
                    for (size_t d = 0; d < hd; ++d) dot += s.q(t, o + d) * key(j, o + d);
                    pr[j] = dot * scale;
                    mx = std::max(mx, pr[j]);
                }
                double sum = 0;
                for (size_t j = 0; j <= last; ++j) sum += (pr[j] = std::exp(pr[j] - mx));
                for (size_t j = 0; j <= last; ++j) pr[j] /= sum;
                for (size_t j = 0; j <= last; ++j) {
                    for (size_t d = 0; d < hd; ++d) att(t, o + d) += pr[j] * value(j, o + d);
                }
            }
        }
        const MatrixD proj = linear_forward(att, L.attn_proj_w, L.attn_proj_b, C);
        for (size_t i = 0; i < y.size(); ++i) y.data()[i] += proj.data()[i];
        // MLP on ln_2(y).
        layernorm_forward(y, L.ln_2_w, L.ln_2_b, eps, s.xhat2, s.rstd2, h);
        s.fc_pre = linear_forward(h, L.fc_w, L.fc_b, I);
        MatrixD act(P, I);
        for (size_t i = 0; i < act.size(); ++i) act.data()[i] = gelu_new(s.fc_pre.data()[i]);
        const MatrixD mlp = linear_forward(act, L.mlp_proj_w, L.mlp_proj_b, C);
        for (size_t i = 0; i < y.size(); ++i) y.data()[i] += mlp.data()[i];
    }
    // ln_f at the last prompt position only: that is all the loss sees.
    MatrixD last(1, C), xhat, out;
    std::copy(y.row(P - 1).begin(), y.row(P - 1).end(), last.row(0).begin());
    std::vector<double> rstd;
    layernorm_forward(last, w.ln_f_w, w.ln_f_b, eps, xhat, rstd, out);
    tape.xhat_f.assign(xhat.row(0).begin(), xhat.row(0).end());
    tape.rstd_f = rstd[0];
    tape.last_hidden.assign(out.row(0).begin(), out.row(0).end());
    return tape;
}

MatrixD reference_prompt_backward(const Gpt2Weights& w, const KvCache& cache,
                                  const PromptTape& tape, std::span<const double> d_last_hidden) {
    const auto& cfg = w.config;
    const size_t P = tape.prompt_rows, C = cfg.n_embd, H = cfg.n_head, hd = C / H;
    const size_t Tp = cache.length, Tk = Tp + P, I = cfg.n_inner;
    require(d_last_hidden.size() == C, "prompt gradient: d_last_hidden has {} values, n_embd is {}",
            d_last_hidden.size(), C);
    require(tape.layers.size() == cfg.n_layer,
            "prompt gradient: the tape has {} layers, the model {}", tape.layers.size(),
            cfg.n_layer);
    const double scale = 1.0 / std::sqrt(double(hd));

    // dy (P×C): the gradient on the residual stream; only the last row feeds ln_f.
    MatrixD dy(P, C);
    layernorm_backward_row(d_last_hidden, tape.xhat_f, tape.rstd_f, w.ln_f_w, dy.row(P - 1));

    for (size_t l = cfg.n_layer; l-- > 0;) {
        const auto& L = w.layers[l];
        const LayerTape& s = tape.layers[l];
        // MLP: y += gelu(ln_2(y)·W_fc + b)·W_proj + b. The residual passes dy through unchanged.
        MatrixD dact = linear_backward(dy, L.mlp_proj_w, I);  // P×I
        for (size_t i = 0; i < dact.size(); ++i)
            dact.data()[i] *= gelu_new_grad(s.fc_pre.data()[i]);
        const MatrixD dh2 = linear_backward(dact, L.fc_w, C);  // P×C
        for (size_t t = 0; t < P; ++t) {
            layernorm_backward_row(dh2.row(t), s.xhat2.row(t), s.rstd2[t], L.ln_2_w, dy.row(t));
        }
        // Attention: y += att·W_proj + b, att = softmax(q·kᵀ·scale)·v per head.
        const MatrixD datt = linear_backward(dy, L.attn_proj_w, C);  // P×C
        MatrixD dqkv(P, 3 * C);  // dq | dk | dv, the prompt rows only (text K/V are constants)
        std::vector<double> dp(Tk);
        auto key = [&](size_t j, size_t d) {
            return j < Tp ? double(cache.k[l](j, d)) : s.k(j - Tp, d);
        };
        auto value = [&](size_t j, size_t d) {
            return j < Tp ? double(cache.v[l](j, d)) : s.v(j - Tp, d);
        };
        for (size_t t = 0; t < P; ++t) {
            const size_t last = Tp + t;
            for (size_t head = 0; head < H; ++head) {
                const double* pr = s.probs.data() + (t * H + head) * Tk;
                const size_t o = head * hd;
                // dp_j = datt_t · v_j;  dv_j += p_j·datt_t (prompt keys only).
                double pdp = 0;
                for (size_t j = 0; j <= last; ++j) {
                    double dot = 0;
                    for (size_t d = 0; d < hd; ++d) dot += datt(t, o + d) * value(j, o + d);
                    dp[j] = dot;
                    pdp += pr[j] * dot;
                    if (j >= Tp) {
                        for (size_t d = 0; d < hd; ++d) {
                            dqkv(j - Tp, 2 * C + o + d) += pr[j] * datt(t, o + d);
                        }
                    }
                }
                // Softmax: ds_j = p_j·(dp_j − Σ p·dp); scores = q·k·scale.
                for (size_t j = 0; j <= last; ++j) {
                    const double ds = pr[j] * (dp[j] - pdp) * scale;
                    for (size_t d = 0; d < hd; ++d) dqkv(t, o + d) += ds * key(j, o + d);
                    if (j >= Tp) {
                        for (size_t d = 0; d < hd; ++d)
                            dqkv(j - Tp, C + o + d) += ds * s.q(t, o + d);
                    }
                }
            }
        }
        const MatrixD dh1 = linear_backward(dqkv, L.c_attn_w, C);  // P×C
        for (size_t t = 0; t < P; ++t) {
            layernorm_backward_row(dh1.row(t), s.xhat1.row(t), s.rstd1[t], L.ln_1_w, dy.row(t));
        }
    }
    return dy;  // y₀ = prompt + wpe, so d prompt = dy
}

}  // namespace promptlens::train
