#include "model/gpt2_reference.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.hpp"

namespace promptlens {
namespace {

// out (T×C) = LayerNorm(x) · g + b, row by row; biased variance, as torch.nn.LayerNorm.
void layernorm(const Matrix& x, std::span<const float> g, std::span<const float> b, double eps,
               Matrix& out) {
    const size_t T = x.rows(), C = x.cols();
    out = Matrix(T, C);
    for (size_t t = 0; t < T; ++t) {
        auto xr = x.row(t);
        double mean = 0;
        for (float v : xr) mean += v;
        mean /= double(C);
        double var = 0;
        for (float v : xr) var += (v - mean) * (v - mean);
        var /= double(C);
        const double rstd = 1.0 / std::sqrt(var + eps);
        auto o = out.row(t);
        for (size_t c = 0; c < C; ++c) o[c] = float((xr[c] - mean) * rstd * g[c] + b[c]);
    }
}

// y (T×out) = x (T×in) · W (in×out) + bias (out): a Conv1D layer.
void linear(const Matrix& x, std::span<const float> W, std::span<const float> bias, size_t out_dim,
            Matrix& y) {
    const size_t T = x.rows(), in_dim = x.cols();
    y = Matrix(T, out_dim);
    std::vector<double> acc(out_dim);
    for (size_t t = 0; t < T; ++t) {
        std::fill(acc.begin(), acc.end(), 0.0);
        auto xr = x.row(t);
        for (size_t i = 0; i < in_dim; ++i) {
            const double xi = xr[i];
            const float* wr = W.data() + i * out_dim;
            for (size_t j = 0; j < out_dim; ++j) acc[j] += xi * wr[j];
        }
        auto yr = y.row(t);
        for (size_t j = 0; j < out_dim; ++j) yr[j] = float(acc[j] + bias[j]);
    }
}

// GPT-2's "gelu_new": 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))).
float gelu_new(float xf) {
    const double x = xf;
    const double k = std::sqrt(2.0 / std::numbers::pi);
    return float(0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x))));
}

// One transformer block on T new rows x (T×C), in place. The keys/values of x are appended after
// the Tp cached rows (past_k, past_v: Tp×C, may be null for Tp = 0) and returned in k_new, v_new
// (T×C). New row i sits at key index Tp+i and attends to keys 0 … Tp+i (causal).
void block(const Gpt2Weights& w, size_t l, Matrix& x, const Matrix* past_k, const Matrix* past_v,
           Matrix& k_new, Matrix& v_new) {
    const auto& L = w.layers[l];
    const size_t T = x.rows(), C = w.config.n_embd, H = w.config.n_head, hd = C / H;
    const size_t Tp = past_k ? past_k->rows() : 0, Tk = Tp + T;

    // Attention: h = ln_1(x); qkv = h·W_attn + b (T×3C), columns q | k | v.
    Matrix h, qkv;
    layernorm(x, L.ln_1_w, L.ln_1_b, w.config.layer_norm_epsilon, h);
    linear(h, L.c_attn_w, L.c_attn_b, 3 * C, qkv);
    k_new = Matrix(T, C);
    v_new = Matrix(T, C);
    for (size_t t = 0; t < T; ++t) {
        auto r = qkv.row(t);
        std::copy(r.begin() + C, r.begin() + 2 * C, k_new.row(t).begin());
        std::copy(r.begin() + 2 * C, r.end(), v_new.row(t).begin());
    }
    auto key = [&](size_t j) { return j < Tp ? past_k->row(j) : k_new.row(j - Tp); };
    auto value = [&](size_t j) { return j < Tp ? past_v->row(j) : v_new.row(j - Tp); };

    Matrix att(T, C);  // T×C, heads concatenated
    std::vector<double> score(Tk), out(hd);
    const double scale = 1.0 / std::sqrt(double(hd));
    for (size_t t = 0; t < T; ++t) {
        const size_t last = Tp + t;  // attends to keys 0 … last
        for (size_t head = 0; head < H; ++head) {
            const float* q = qkv.row(t).data() + head * hd;
            double mx = -INFINITY;
            for (size_t j = 0; j <= last; ++j) {
                const float* kj = key(j).data() + head * hd;
                double s = 0;
                for (size_t d = 0; d < hd; ++d) s += double(q[d]) * kj[d];
                score[j] = s * scale;
                mx = std::max(mx, score[j]);
            }
            double sum = 0;
            for (size_t j = 0; j <= last; ++j) sum += (score[j] = std::exp(score[j] - mx));
            std::fill(out.begin(), out.end(), 0.0);
            for (size_t j = 0; j <= last; ++j) {
                const float* vj = value(j).data() + head * hd;
                const double p = score[j] / sum;
                for (size_t d = 0; d < hd; ++d) out[d] += p * vj[d];
            }
            float* o = att.row(t).data() + head * hd;
            for (size_t d = 0; d < hd; ++d) o[d] = float(out[d]);
        }
    }
    Matrix proj;
    linear(att, L.attn_proj_w, L.attn_proj_b, C, proj);
    for (size_t i = 0; i < x.size(); ++i) x.data()[i] += proj.data()[i];  // residual

    // MLP: x += gelu_new(ln_2(x)·W_fc + b_fc)·W_proj + b_proj.
    Matrix fc, mlp;
    layernorm(x, L.ln_2_w, L.ln_2_b, w.config.layer_norm_epsilon, h);
    linear(h, L.fc_w, L.fc_b, w.config.n_inner, fc);
    for (float& v : fc.values()) v = gelu_new(v);
    linear(fc, L.mlp_proj_w, L.mlp_proj_b, C, mlp);
    for (size_t i = 0; i < x.size(); ++i) x.data()[i] += mlp.data()[i];  // residual
}

// One logit: hidden (C) · lm_head[id] (C).
float logit(const Gpt2Weights& w, std::span<const float> hidden, size_t id) {
    const size_t C = w.config.n_embd;
    const float* e = w.lm_head.data() + id * C;
    double s = 0;
    for (size_t c = 0; c < C; ++c) s += double(hidden[c]) * e[c];
    return float(s);
}

}  // namespace

TextPassResult reference_text_pass(const Gpt2Weights& w, std::span<const int32_t> ids,
                                   const TextPassOptions& options) {
    const auto& cfg = w.config;
    const size_t T = ids.size(), C = cfg.n_embd;
    require(T >= 1, "GPT-2 text pass: empty token sequence");
    require(T <= cfg.n_positions, "GPT-2 text pass: {} tokens but the model has {} positions", T,
            cfg.n_positions);
    // x (T×C) = wte[ids] + wpe[0 … T).
    Matrix x(T, C);
    for (size_t t = 0; t < T; ++t) {
        require(ids[t] >= 0 && size_t(ids[t]) < cfg.vocab_size,
                "GPT-2 text pass: token {} is id {}, outside the vocabulary of {}", t, ids[t],
                cfg.vocab_size);
        const float* e = w.wte.data() + size_t(ids[t]) * C;
        const float* p = w.wpe.data() + t * C;
        auto xr = x.row(t);
        for (size_t c = 0; c < C; ++c) xr[c] = e[c] + p[c];
    }
    TextPassResult r;
    r.cache.length = T;
    r.cache.k.resize(cfg.n_layer);
    r.cache.v.resize(cfg.n_layer);
    if (options.keep_hidden_states) r.hidden_states.push_back(x);
    for (size_t l = 0; l < cfg.n_layer; ++l) {
        block(w, l, x, nullptr, nullptr, r.cache.k[l], r.cache.v[l]);
        if (options.keep_hidden_states && l + 1 < cfg.n_layer) r.hidden_states.push_back(x);
    }
    if (options.keep_hidden_states) {
        Matrix out;
        layernorm(x, w.ln_f_w, w.ln_f_b, cfg.layer_norm_epsilon, out);
        r.hidden_states.push_back(std::move(out));
    }
    return r;
}

PromptPassResult reference_prompt_pass(const Gpt2Weights& w, const KvCache& cache,
                                       ConstMatView prompt, const PromptPassOptions& options) {
    const auto& cfg = w.config;
    const size_t P = prompt.rows(), C = cfg.n_embd;
    require(P >= 1, "GPT-2 prompt pass: the prompt has no rows");
    require(prompt.cols() == C,
            "GPT-2 prompt pass: the prompt is {}×{} but the model's n_embd is {}", P, prompt.cols(),
            C);
    require(cache.k.size() == cfg.n_layer && cache.v.size() == cfg.n_layer,
            "GPT-2 prompt pass: the cache has {} layers, the model {}", cache.k.size(),
            cfg.n_layer);
    PromptPassResult r;
    r.position_start = options.position_start.value_or(cache.length);
    require(r.position_start + P <= cfg.n_positions,
            "GPT-2 prompt pass: prompt positions {} … {} exceed the model's {} positions",
            r.position_start, r.position_start + P - 1, cfg.n_positions);

    // y (P×C) = prompt + wpe[start … start+P).
    Matrix y(P, C);
    for (size_t i = 0; i < P; ++i) {
        const float* p = w.wpe.data() + (r.position_start + i) * C;
        auto src = prompt.row(i);
        auto yr = y.row(i);
        for (size_t c = 0; c < C; ++c) yr[c] = src[c] + p[c];
    }
    Matrix k_new, v_new;  // the prompt's own keys/values, P×C, discarded after each block
    for (size_t l = 0; l < cfg.n_layer; ++l) {
        const Matrix* pk = cache.length ? &cache.k[l] : nullptr;
        const Matrix* pv = cache.length ? &cache.v[l] : nullptr;
        block(w, l, y, pk, pv, k_new, v_new);
    }
    Matrix out;  // P×C after ln_f
    layernorm(y, w.ln_f_w, w.ln_f_b, cfg.layer_norm_epsilon, out);
    auto last = out.row(P - 1);
    r.last_hidden.assign(last.begin(), last.end());

    switch (options.logits) {
        case LogitsRequest::none:
            break;
        case LogitsRequest::full:
            r.logits.resize(cfg.vocab_size);
            for (size_t v = 0; v < cfg.vocab_size; ++v) r.logits[v] = logit(w, last, v);
            break;
        case LogitsRequest::selected:
            for (int32_t id : options.logit_token_ids) {
                require(
                    id >= 0 && size_t(id) < cfg.vocab_size,
                    "GPT-2 prompt pass: logit requested for id {}, outside the vocabulary of {}",
                    id, cfg.vocab_size);
                r.logits.push_back(logit(w, last, size_t(id)));
            }
            break;
    }
    if (options.keep_all_hidden) r.all_hidden = std::move(out);
    return r;
}

std::vector<size_t> hf_padded_prompt_starts(std::span<const size_t> lengths, size_t batch_size) {
    require(batch_size >= 1, "hf_padded_prompt_starts: batch size must be at least 1");
    std::vector<size_t> starts(lengths.size());
    for (size_t b = 0; b < lengths.size(); b += batch_size) {
        const size_t e = std::min(lengths.size(), b + batch_size);
        const size_t longest = *std::max_element(lengths.begin() + b, lengths.begin() + e);
        std::fill(starts.begin() + b, starts.begin() + e, longest);
    }
    return starts;
}

}  // namespace promptlens
