#include "model/gpt2_cpu.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <numbers>
#include <numeric>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "linalg/gemm.hpp"
#include "model/gpt2_cpu_attention.hpp"

namespace promptlens {
namespace {

constexpr size_t kRowBlock = 64;      // rows per LayerNorm / copy block: fixed by the input
constexpr size_t kVocabBlock = 4096;  // lm_head columns per logits task
constexpr size_t kLanes = 16;         // independent accumulators, so reductions vectorise

// ---- vectorisable scalar kernels --------------------------------------------------------------

float lane_sum(const float* x, size_t n) {
    float acc[kLanes] = {};
    size_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (size_t k = 0; k < kLanes; ++k) acc[k] += x[i + k];
    float s = 0;
    for (; i < n; ++i) s += x[i];
    for (size_t k = 0; k < kLanes; ++k) s += acc[k];
    return s;
}

float lane_centered_sq_sum(const float* x, size_t n, float mean) {
    float acc[kLanes] = {};
    size_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (size_t k = 0; k < kLanes; ++k) {
            const float d = x[i + k] - mean;
            acc[k] += d * d;
        }
    float s = 0;
    for (; i < n; ++i) s += (x[i] - mean) * (x[i] - mean);
    for (size_t k = 0; k < kLanes; ++k) s += acc[k];
    return s;
}

// out (rows×C) = LayerNorm(x) · g + b; biased variance, two passes, as torch.nn.LayerNorm.
void layernorm(ConstMatView x, std::span<const float> g, std::span<const float> b, float eps,
               MatView out) {
    const size_t C = x.cols();
    for (size_t t = 0; t < x.rows(); ++t) {
        const float* xr = x.row(t).data();
        float* o = out.row(t).data();
        const float mean = lane_sum(xr, C) / float(C);
        const float var = lane_centered_sq_sum(xr, C, mean) / float(C);
        const float rstd = 1.0f / std::sqrt(var + eps);
        for (size_t c = 0; c < C; ++c) o[c] = (xr[c] - mean) * rstd * g[c] + b[c];
    }
}

// ---- the layer pieces -------------------------------------------------------------------------

struct Dims {
    size_t C, H, hd, I, L;
    float eps;
};

Dims dims(const Gpt2Weights& w) {
    const auto& c = w.config;
    return {c.n_embd, c.n_head, c.head_dim(), c.n_inner, c.n_layer, float(c.layer_norm_epsilon)};
}

// ---- scratch: pooled per model, so a pass's buffers are touched once, not every pass -----------

}  // namespace

// The activations of R packed rows (x: the residual stream, h: layer-norm output, qkv, att: the
// attention output, fc: the MLP's hidden layer) and each attention worker's score buffer, carved
// from one buffer that only grows (64-byte multiples keep every region aligned alike). Every
// region is written before it is read in a pass, so a reused buffer needs no clearing.
class Gpt2CpuWorkspace {
  public:
    void shape(size_t R, size_t C, size_t I, size_t workers, size_t per_worker) {
        const size_t sizes[] = {R * C, R * C, R * 3 * C, R * C, R * I, workers * per_worker};
        size_t offsets[6], total = 0;
        for (size_t k = 0; k < 6; ++k) {
            offsets[k] = total;
            total += (sizes[k] + 15) / 16 * 16;
        }
        if (capacity_ < total) {
            data_.reset();  // the old buffer goes before the new one comes
            data_.reset(new float[total]);
            capacity_ = total;
        }
        float* base = data_.get();
        x = MatView(base + offsets[0], R, C);
        h = MatView(base + offsets[1], R, C);
        qkv = MatView(base + offsets[2], R, 3 * C);
        att = MatView(base + offsets[3], R, C);
        fc = MatView(base + offsets[4], R, I);
        scores = base + offsets[5];
    }
    MatView x, h, qkv, att, fc;
    float* scores = nullptr;
    LinearScratch linear;  // bf16 copies of the GEMM inputs (empty for fp32)

  private:
    std::unique_ptr<float[]> data_;
    size_t capacity_ = 0;
};

struct Gpt2CpuModel::Pool {
    std::mutex mutex;
    std::vector<std::unique_ptr<Gpt2CpuWorkspace>> free;
};

namespace {

// A workspace borrowed from the model's pool for one pass (a new one when every pooled one is in
// use by a concurrent pass), given back at the end.
class WorkspaceLease {
  public:
    WorkspaceLease(Gpt2CpuModel::Pool& pool, size_t R, const Gpt2Weights& w, size_t workers,
                   size_t per_worker)
        : pool_(pool) {
        {
            std::lock_guard lock(pool_.mutex);
            if (!pool_.free.empty()) {
                ws_ = std::move(pool_.free.back());
                pool_.free.pop_back();
            }
        }
        if (!ws_) ws_ = std::make_unique<Gpt2CpuWorkspace>();
        ws_->shape(R, w.config.n_embd, w.config.n_inner, workers, per_worker);
    }
    ~WorkspaceLease() {
        std::lock_guard lock(pool_.mutex);
        pool_.free.push_back(std::move(ws_));
    }
    WorkspaceLease(const WorkspaceLease&) = delete;
    WorkspaceLease& operator=(const WorkspaceLease&) = delete;
    Gpt2CpuWorkspace& operator*() { return *ws_; }

  private:
    Gpt2CpuModel::Pool& pool_;
    std::unique_ptr<Gpt2CpuWorkspace> ws_;
};

// Runs fn, adding its wall-clock seconds to *slot when profiling.
template <class F>
void timed(double* slot, F&& fn) {
    if (!slot) return fn();
    const auto t = std::chrono::steady_clock::now();
    fn();
    *slot += std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// h = LayerNorm(x) over fixed 64-row blocks.
void layernorm_rows(ConstMatView x, std::span<const float> g, std::span<const float> b, float eps,
                    MatView h, int threads) {
    parallel_for(chunk_count(x.rows(), kRowBlock), threads, [&](size_t blk) {
        const size_t r0 = blk * kRowBlock, r1 = std::min(x.rows(), r0 + kRowBlock);
        layernorm(x.row_range(r0, r1), g, b, eps, h.row_range(r0, r1));
    });
}

// h = ln_1(x); q, k, v = h·W_{q,k,v} + b (R×C each, anywhere; an empty q is skipped).
void attention_inputs(const Gpt2LayerWeights& L, const Gpt2CpuModel::Layer& K, const Dims& d,
                      ConstMatView x, MatView h, MatView q, MatView k, MatView v, int threads,
                      LinearScratch& sc, Gpt2CpuStageTimes* tm = nullptr) {
    timed(tm ? &tm->layernorm : nullptr,
          [&] { layernorm_rows(x, L.ln_1_w, L.ln_1_b, d.eps, h, threads); });
    timed(tm ? &tm->qkv : nullptr, [&] { cpu_qkv(K, L.c_attn_b, h, q, k, v, threads, sc); });
}

// x += att·W_proj + b; x += gelu(ln_2(x)·W_fc + b_fc)·W_mproj + b_mproj.
void attention_output_and_mlp(const Gpt2LayerWeights& L, const Gpt2CpuModel::Layer& K,
                              const Dims& d, MatView x, MatView h, ConstMatView att, MatView fc,
                              int threads, LinearScratch& sc, Gpt2CpuStageTimes* tm = nullptr) {
    timed(tm ? &tm->attn_proj : nullptr,
          [&] { linear(att, K.attn_proj, L.attn_proj_b, Activation::none, true, x, threads, sc); });
    timed(tm ? &tm->layernorm : nullptr,
          [&] { layernorm_rows(x, L.ln_2_w, L.ln_2_b, d.eps, h, threads); });
    timed(tm ? &tm->fc_gelu : nullptr,
          [&] { linear(h, K.fc, L.fc_b, Activation::gelu_new, false, fc, threads, sc); });
    timed(tm ? &tm->mlp_proj : nullptr,
          [&] { linear(fc, K.mlp_proj, L.mlp_proj_b, Activation::none, true, x, threads, sc); });
}

// Runs task(t, scratch) for t in [0, n_tasks) on up to `threads` workers, each with its own
// `per_worker` floats of scratch from `scratch`. Tasks are independent, so the result does not
// depend on which worker runs which.
template <class F>
void for_tasks(size_t n_tasks, int threads, size_t workers, float* scratch, size_t per_worker,
               F&& task) {
    std::atomic<size_t> next{0};
    parallel_for(workers, threads, [&](size_t wk) {
        for (size_t t = next.fetch_add(1); t < n_tasks; t = next.fetch_add(1))
            task(t, scratch + wk * per_worker);
    });
}

size_t round16(size_t n) {
    return (n + 15) / 16 * 16;
}

}  // namespace

Gpt2CpuModel::Gpt2CpuModel(const Gpt2Weights& w, Precision p)
    : weights(w), precision(p), pool(std::make_shared<Pool>()) {
    const Dims d = dims(w);
    for (const auto& L : w.layers) {
        // Columns j·C … (j+1)·C of c_attn (q | k | v), read in place (stride 3C).
        auto slice = [&](size_t j) {
            return LinearWeight(ConstMatView(L.c_attn_w.data() + j * d.C, d.C, d.C, 3 * d.C), p);
        };
        layers.push_back({slice(0), slice(1), slice(2),
                          LinearWeight(ConstMatView(L.attn_proj_w.data(), d.C, d.C), p),
                          LinearWeight(ConstMatView(L.fc_w.data(), d.C, d.I), p),
                          LinearWeight(ConstMatView(L.mlp_proj_w.data(), d.I, d.C), p)});
    }
}

size_t Gpt2CpuModel::copied_bytes() const {
    size_t n = 0;
    for (const auto& L : layers)
        n += L.q.copied_bytes() + L.k.copied_bytes() + L.v.copied_bytes() +
             L.attn_proj.copied_bytes() + L.fc.copied_bytes() + L.mlp_proj.copied_bytes();
    return n;
}

void cpu_qkv(const Gpt2CpuModel::Layer& K, std::span<const float> c_attn_b, ConstMatView h,
             MatView q, MatView k, MatView v, int threads, LinearScratch& scratch) {
    const size_t C = K.k.out();
    if (q.rows() > 0)
        linear(h, K.q, c_attn_b.subspan(0, C), Activation::none, false, q, threads, scratch);
    linear(h, K.k, c_attn_b.subspan(C, C), Activation::none, false, k, threads, scratch);
    linear(h, K.v, c_attn_b.subspan(2 * C, C), Activation::none, false, v, threads, scratch);
}

void cpu_qkv(const Gpt2CpuModel::Layer& K, std::span<const float> c_attn_b, ConstMatView h,
             MatView qkv, int threads, LinearScratch& scratch) {
    const size_t R = qkv.rows(), C = K.k.out(), ld = qkv.stride();
    cpu_qkv(K, c_attn_b, h, MatView(qkv.data(), R, C, ld), MatView(qkv.data() + C, R, C, ld),
            MatView(qkv.data() + 2 * C, R, C, ld), threads, scratch);
}

PackedKvCache cpu_text_pass(const Gpt2Weights& w, const PackedTokens& texts,
                            const Gpt2CpuOptions& options) {
    return cpu_text_pass(Gpt2CpuModel(w, options.precision), texts, options.threads);
}

BatchPromptResult cpu_prompt_pass(const Gpt2Weights& w, const PackedKvCache& cache,
                                  ConstMatView prompt, const BatchPromptOptions& options,
                                  const Gpt2CpuOptions& cpu) {
    return cpu_prompt_pass(Gpt2CpuModel(w, cpu.precision), cache, prompt, options, cpu.threads);
}

PackedKvCache cpu_text_pass(const Gpt2CpuModel& m, const PackedTokens& texts, int threads_in,
                            Gpt2CpuStageTimes* tm) {
    const Gpt2Weights& w = m.weights;
    const auto& cfg = w.config;
    const Dims d = dims(w);
    const size_t N = texts.count(), R = texts.tokens();
    require(N >= 1, "GPT-2 text pass: no sequences");
    require(texts.offsets.front() == 0 && texts.offsets.back() == R,
            "GPT-2 text pass: offsets end at {} but there are {} ids", texts.offsets.back(), R);
    size_t t_max = 0;
    for (size_t s = 0; s < N; ++s) {
        const size_t T = texts.length(s);
        require(T >= 1, "GPT-2 text pass: sequence {} is empty", s);
        require(T <= cfg.n_positions,
                "GPT-2 text pass: sequence {} has {} tokens but the model has {} positions", s, T,
                cfg.n_positions);
        t_max = std::max(t_max, T);
    }
    for (size_t r = 0; r < R; ++r)
        require(texts.ids[r] >= 0 && size_t(texts.ids[r]) < cfg.vocab_size,
                "GPT-2 text pass: packed token {} is id {}, outside the vocabulary of {}", r,
                texts.ids[r], cfg.vocab_size);

    const int threads = resolve_threads(threads_in);
    const size_t workers = std::min<size_t>(size_t(threads), N * d.H);
    const size_t per_worker = round16(attention_scratch_floats(0, t_max, d.hd));
    const auto t_alloc = std::chrono::steady_clock::now();
    WorkspaceLease lease(*m.pool, R, w, workers, per_worker);
    Gpt2CpuWorkspace& ws = *lease;
    MatView x = ws.x, h = ws.h, qkv = ws.qkv, att = ws.att, fc = ws.fc;

    PackedKvCache cache;
    cache.offsets = texts.offsets;
    for (size_t l = 0; l < d.L; ++l) {
        cache.k.emplace_back(R, d.C, uninitialized);  // every row is written by its layer
        cache.v.emplace_back(R, d.C, uninitialized);
    }

    if (tm)
        tm->alloc +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t_alloc).count();

    // x (R×C) = wte[ids] + wpe[position within its own sequence].
    timed(tm ? &tm->embed : nullptr, [&] {
        for (size_t s = 0; s < N; ++s)
            for (size_t r = texts.offsets[s]; r < texts.offsets[s + 1]; ++r) {
                const float* e = w.wte.data() + size_t(texts.ids[r]) * d.C;
                const float* p = w.wpe.data() + (r - texts.offsets[s]) * d.C;
                float* xr = x.row(r).data();
                for (size_t c = 0; c < d.C; ++c) xr[c] = e[c] + p[c];
            }
    });

    const float scale = 1.0f / std::sqrt(float(d.hd));
    for (size_t l = 0; l < d.L; ++l) {
        const auto& L = w.layers[l];
        const auto& K = m.layers[l];
        Matrix &kc = cache.k[l], &vc = cache.v[l];
        // K and V go straight into the cache; the last layer needs no Q.
        const MatView qs = l + 1 == d.L ? MatView() : MatView(qkv.data(), R, d.C);
        attention_inputs(L, K, d, x, h, qs, kc, vc, threads, ws.linear, tm);
        if (l + 1 == d.L) break;  // the cache is complete; the rest of the last block is unused

        timed(tm ? &tm->attention : nullptr, [&] {
            for_tasks(N * d.H, threads, workers, ws.scores, per_worker, [&](size_t t, float* sc) {
                const size_t s = t / d.H, hh = t % d.H, o = texts.offsets[s], T = texts.length(s);
                const size_t c0 = hh * d.hd;
                ConstMatView q(qs.data() + o * d.C + c0, T, d.hd, d.C);
                ConstMatView kn(kc.data() + o * d.C + c0, T, d.hd, d.C);
                ConstMatView vn(vc.data() + o * d.C + c0, T, d.hd, d.C);
                attend(q, {}, {}, kn, vn, scale, sc,
                       MatView(att.data() + o * d.C + c0, T, d.hd, d.C));
            });
        });

        attention_output_and_mlp(L, K, d, x, h, att, fc, threads, ws.linear, tm);
    }
    return cache;
}

BatchPromptResult cpu_prompt_pass(const Gpt2CpuModel& m, const PackedKvCache& cache,
                                  ConstMatView prompt, const BatchPromptOptions& options,
                                  int threads_in) {
    const Gpt2Weights& w = m.weights;
    const auto& cfg = w.config;
    const Dims d = dims(w);
    const size_t P = prompt.rows(), N = cache.count();
    require(P >= 1, "GPT-2 prompt pass: the prompt has no rows");
    require(prompt.cols() == d.C,
            "GPT-2 prompt pass: the prompt is {}×{} but the model's n_embd is {}", P, prompt.cols(),
            d.C);
    require(N >= 1, "GPT-2 prompt pass: the cache holds no sequences");
    require(cache.k.size() == d.L && cache.v.size() == d.L,
            "GPT-2 prompt pass: the cache has {} layers, the model {}", cache.k.size(), d.L);
    require(options.position_starts.empty() || options.position_starts.size() == N,
            "GPT-2 prompt pass: {} position starts for {} cached sequences",
            options.position_starts.size(), N);

    BatchPromptResult res;
    size_t tk_max = 0;
    for (size_t s = 0; s < N; ++s) {
        const size_t start =
            options.position_starts.empty() ? cache.length(s) : options.position_starts[s];
        require(start + P <= cfg.n_positions,
                "GPT-2 prompt pass: sequence {}: prompt positions {} … {} exceed the model's {} "
                "positions",
                s, start, start + P - 1, cfg.n_positions);
        res.position_starts.push_back(start);
        tk_max = std::max(tk_max, cache.length(s) + P);
    }
    if (options.logits == LogitsRequest::selected)
        for (int32_t id : options.logit_token_ids)
            require(id >= 0 && size_t(id) < cfg.vocab_size,
                    "GPT-2 prompt pass: logit requested for id {}, outside the vocabulary of {}",
                    id, cfg.vocab_size);

    const size_t R = N * P;
    const int threads = resolve_threads(threads_in);
    const size_t workers = std::min<size_t>(size_t(threads), N * d.H);
    const size_t per_worker = round16(attention_scratch_floats(tk_max - P, P, d.hd));
    WorkspaceLease lease(*m.pool, R, w, workers, per_worker);
    Gpt2CpuWorkspace& ws = *lease;
    MatView y = ws.x, h = ws.h, qkv = ws.qkv, att = ws.att, fc = ws.fc;

    // y (row s·P+i) = prompt[i] + wpe[start_s + i].
    for (size_t s = 0; s < N; ++s)
        for (size_t i = 0; i < P; ++i) {
            const float* p = w.wpe.data() + (res.position_starts[s] + i) * d.C;
            const float* src = prompt.row(i).data();
            float* yr = y.row(s * P + i).data();
            for (size_t c = 0; c < d.C; ++c) yr[c] = src[c] + p[c];
        }

    const float scale = 1.0f / std::sqrt(float(d.hd));
    for (size_t l = 0; l < d.L; ++l) {
        const auto& L = w.layers[l];
        const auto& K = m.layers[l];
        layernorm_rows(y, L.ln_1_w, L.ln_1_b, d.eps, h, threads);
        cpu_qkv(K, L.c_attn_b, h, qkv, threads, ws.linear);
        const Matrix &kc = cache.k[l], &vc = cache.v[l];
        for_tasks(N * d.H, threads, workers, ws.scores, per_worker, [&](size_t t, float* sc) {
            const size_t s = t / d.H, hh = t % d.H, o = cache.offsets[s], Tp = cache.length(s);
            const size_t c0 = hh * d.hd, r0 = s * P;
            ConstMatView q(qkv.data() + r0 * 3 * d.C + c0, P, d.hd, 3 * d.C);
            ConstMatView kn(qkv.data() + r0 * 3 * d.C + d.C + c0, P, d.hd, 3 * d.C);
            ConstMatView vn(qkv.data() + r0 * 3 * d.C + 2 * d.C + c0, P, d.hd, 3 * d.C);
            ConstMatView kp(kc.data() + o * d.C + c0, Tp, d.hd, d.C);
            ConstMatView vp(vc.data() + o * d.C + c0, Tp, d.hd, d.C);
            attend(q, kp, vp, kn, vn, scale, sc, MatView(att.data() + r0 * d.C + c0, P, d.hd, d.C));
        });
        attention_output_and_mlp(L, K, d, y, h, att, fc, threads, ws.linear);
    }

    // ln_f on each sequence's last prompt row: last_hidden N×C.
    res.last_hidden = Matrix(N, d.C);
    for (size_t s = 0; s < N; ++s)
        layernorm(y.row_range(s * P + P - 1, s * P + P), w.ln_f_w, w.ln_f_b, d.eps,
                  res.last_hidden.row_range(s, s + 1));

    // Logits: last_hidden · lm_headᵀ over fixed blocks of vocabulary rows.
    auto logits_for = [&](ConstMatView head) {  // head: K×C rows of lm_head → logits N×K
        const size_t K = head.rows();
        res.logits = Matrix(N, K);
        parallel_for(chunk_count(K, kVocabBlock), threads, [&](size_t blk) {
            const size_t b = blk * kVocabBlock, e = std::min(K, b + kVocabBlock);
            blas::gemm(Trans::N, Trans::T, 1.0f, res.last_hidden, head.row_range(b, e), 0.0f,
                       MatView(res.logits.data() + b, N, e - b, K));
        });
    };
    switch (options.logits) {
        case LogitsRequest::none:
            break;
        case LogitsRequest::full:
            logits_for(ConstMatView(w.lm_head.data(), cfg.vocab_size, d.C));
            break;
        case LogitsRequest::selected: {
            Matrix rows(options.logit_token_ids.size(), d.C);
            for (size_t i = 0; i < rows.rows(); ++i) {
                const float* src = w.lm_head.data() + size_t(options.logit_token_ids[i]) * d.C;
                std::copy(src, src + d.C, rows.row(i).data());
            }
            logits_for(rows);
            break;
        }
    }
    return res;
}

std::vector<std::vector<size_t>> length_sorted_chunks(std::span<const size_t> lengths,
                                                      size_t max_tokens) {
    require(max_tokens >= 1, "length_sorted_chunks: max_tokens must be at least 1");
    std::vector<size_t> order(lengths.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return lengths[a] < lengths[b]; });
    std::vector<std::vector<size_t>> chunks;
    size_t tokens = 0;
    for (size_t i : order) {
        if (chunks.empty() || tokens + lengths[i] > max_tokens) {
            chunks.emplace_back();
            tokens = 0;
        }
        chunks.back().push_back(i);
        tokens += lengths[i];
    }
    return chunks;
}

}  // namespace promptlens
