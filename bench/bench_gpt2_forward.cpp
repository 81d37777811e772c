// Times the fast CPU GPT-2 forward pass (model/gpt2_cpu.hpp) on a full-size GPT-2 124M: random
// weights built in memory, or a HuggingFace folder / hub name (--model, memory-mapped):
//
//   promptlens_bench_gpt2_forward [--model DIR|NAME] [--texts texts.json] [--sequences 8]
//                                 [--length 300] [--prompt 20] [--repeats 2] [--threads 1,2]
//                                 [--precision fp32,bf16] [--out-hidden DIR]
//
// The text pass packs `--sequences` random sequences of about `--length` tokens (lengths spread
// ±10%), or the texts of --texts ({"texts": [[ids]...]}, as tools/write_random_gpt2.py writes),
// then one prompt pass appends a `--prompt`-row soft prompt to each (4 selected logits). The
// prompt is N(0, 0.02²) from numpy's default_rng(7), written by the same code as the PyTorch peer
// (tools/torch_gpt2_peer.py) when --prompt-npy is given, so both compute the same features;
// --out-hidden writes last_hidden per precision as .npy for bench/bench_gpt2.sh to compare. Times
// are the best of --repeats. GFLOP/s counts the nominal work: 2 · (matmul parameters) · tokens (85M
// matmul parameters for 124M; embeddings are lookups and there is no LM head) plus causal attention
// (2·T²·C per layer for QKᵀ and P·V over the lower triangle; the prompt pass 4·P·(T+P)·C). The text
// pass actually skips the last layer after its K/V, and attention computes full squares, so this is
// work credited, not work done.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <fstream>

#include "core/error.hpp"
#include "core/memory.hpp"
#include "core/npy.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "model/gpt2_cpu.hpp"
#include "model/hub_cache.hpp"
#include "model/kernel_tier.hpp"
#include "timing.hpp"

using namespace promptlens;
using promptlens::bench::best_of;

namespace {

// A tensor of n N(0, 0.02²) values (or a constant), owned by `w`.
std::span<const float> tensor(Gpt2Weights& w, size_t n, uint64_t stream, float constant = NAN) {
    auto v = std::make_shared<std::vector<float>>(n);
    if (std::isnan(constant)) {
        // Eight independent streams per tensor, filled in parallel (the bench is not about this).
        const size_t parts = 8, part = (n + parts - 1) / parts;
        parallel_for(parts, 0, [&](size_t p) {
            Rng rng(12345, stream * parts + p);
            for (size_t i = p * part; i < std::min(n, (p + 1) * part); ++i)
                (*v)[i] = float(0.02 * rng.normal());
        });
    } else {
        std::fill(v->begin(), v->end(), constant);
    }
    w.owned.push_back(v);
    return *v;
}

Gpt2Weights random_gpt2_124m() {
    Gpt2Weights w;
    auto& c = w.config;
    c.n_layer = 12, c.n_head = 12, c.n_embd = 768, c.n_positions = 1024, c.vocab_size = 50257;
    c.n_inner = 4 * c.n_embd;
    const size_t C = c.n_embd, I = c.n_inner;
    uint64_t s = 0;
    w.wte = tensor(w, c.vocab_size * C, s++);
    w.wpe = tensor(w, c.n_positions * C, s++);
    for (size_t l = 0; l < c.n_layer; ++l) {
        Gpt2LayerWeights L;
        L.ln_1_w = tensor(w, C, 0, 1.0f), L.ln_1_b = tensor(w, C, 0, 0.0f);
        L.c_attn_w = tensor(w, C * 3 * C, s++), L.c_attn_b = tensor(w, 3 * C, s++);
        L.attn_proj_w = tensor(w, C * C, s++), L.attn_proj_b = tensor(w, C, s++);
        L.ln_2_w = tensor(w, C, 0, 1.0f), L.ln_2_b = tensor(w, C, 0, 0.0f);
        L.fc_w = tensor(w, C * I, s++), L.fc_b = tensor(w, I, s++);
        L.mlp_proj_w = tensor(w, I * C, s++), L.mlp_proj_b = tensor(w, C, s++);
        w.layers.push_back(L);
    }
    w.ln_f_w = tensor(w, C, 0, 1.0f), w.ln_f_b = tensor(w, C, 0, 0.0f);
    w.lm_head = w.wte;
    return w;
}

}  // namespace

int main(int argc, char** argv) {
    promptlens::retain_freed_memory();
    CLI::App app{"Times the CPU GPT-2 forward pass on GPT-2 124M (random in memory, or --model)"};
    std::string model_name, texts_path, prompt_npy, out_hidden;
    size_t sequences = 8, length = 300, prompt_rows = 20;
    int repeats = 2;
    std::vector<int> threads = {1, 2};
    std::vector<std::string> precisions = {"fp32", "bf16"};
    app.add_option("--model", model_name, "HuggingFace folder or hub name (default: random 124M)");
    app.add_option("--texts", texts_path, "JSON {\"texts\": [[ids...]...]} (default: random)");
    app.add_option("--prompt-npy", prompt_npy, "soft prompt P×C .npy (default: random, --prompt)");
    app.add_option("--sequences", sequences, "texts packed in one text pass");
    app.add_option("--length", length, "approximate tokens per text");
    app.add_option("--prompt", prompt_rows, "soft-prompt rows P");
    app.add_option("--repeats", repeats, "best of this many runs");
    app.add_option("--threads", threads, "thread counts to time")->delimiter(',');
    app.add_option("--precision", precisions, "precisions to time (fp32, bf16)")->delimiter(',');
    app.add_option("--out-hidden", out_hidden, "folder for ours_<precision>.npy (last hidden)");
    bool profile = false;
    app.add_flag("--profile", profile, "also print one text pass's time per stage");
    CLI11_PARSE(app, argc, argv);

    try {
        auto t0 = std::chrono::steady_clock::now();
        const Gpt2Weights w = model_name.empty() ? random_gpt2_124m()
                                                 : load_gpt2_model(resolve_model_dir(model_name));
        const auto& c = w.config;
        const size_t C = c.n_embd, L = c.n_layer;
        const double matmul_params = double(L) * double(C * 3 * C + C * C + 2 * C * c.n_inner);
        std::printf("model: %s (ready in %.1f s), %.1fM matmul parameters; kernels %s%s\n",
                    model_name.empty() ? "random GPT-2 124M in memory" : model_name.c_str(),
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                    matmul_params / 1e6, kernel_tier_name(kernel_tier()),
                    cpu_has_avx512bf16() ? " (bf16: vdpbf16ps)" : " (bf16: widened to fp32)");

        Rng rng(7, 1);
        PackedTokens texts;
        if (!texts_path.empty()) {
            std::ifstream f(texts_path);
            require(f.good(), "{}: cannot open it", texts_path);
            const auto j = nlohmann::json::parse(f);
            for (const auto& t : j.at("texts")) texts.add(t.get<std::vector<int32_t>>());
        } else {
            for (size_t s = 0; s < sequences; ++s) {
                const size_t T = length - length / 10 + rng.below(length / 5 + 1);
                std::vector<int32_t> ids(T);
                for (auto& id : ids) id = int32_t(rng.below(c.vocab_size));
                texts.add(ids);
            }
        }
        Matrix prompt;
        if (!prompt_npy.empty()) {
            prompt = read_npy_matrix(prompt_npy);
            prompt_rows = prompt.rows();
        } else {
            prompt = Matrix(prompt_rows, C);
            for (float& v : prompt.values()) v = float(0.02 * rng.normal());
        }
        double attn_text = 0, attn_prompt = 0;
        for (size_t s = 0; s < texts.count(); ++s) {
            const double T = double(texts.length(s));
            attn_text += 2.0 * T * T * double(C) * double(L);
            attn_prompt +=
                4.0 * double(prompt_rows) * (T + double(prompt_rows)) * double(C) * double(L);
        }
        const double text_tokens = double(texts.tokens()),
                     prompt_tokens = double(texts.count() * prompt_rows);
        const double text_flop = 2.0 * matmul_params * text_tokens + attn_text;
        const double prompt_flop = 2.0 * matmul_params * prompt_tokens + attn_prompt;
        std::printf("text pass: %zu sequences, %zu tokens; prompt pass: P = %zu per sequence\n",
                    texts.count(), texts.tokens(), prompt_rows);

        BatchPromptOptions po{.logits = LogitsRequest::selected,
                              .logit_token_ids = {11274, 14774, 922, 2089}};
        for (const auto& pname : precisions) {
            const Precision prec = parse_precision(pname);
            for (int t : threads) {
                const auto tc = std::chrono::steady_clock::now();
                const Gpt2CpuBackend cpu(w, {.threads = t, .precision = prec});
                const double convert =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - tc).count();
                PackedKvCache cache;
                const double tt = best_of(repeats, [&] {
                    cache = {};  // as the extractor does: the last chunk's cache goes first
                    cache = cpu.text_pass(texts);
                });
                BatchPromptResult r;
                const double tp = best_of(repeats, [&] { r = cpu.prompt_pass(cache, prompt, po); });
                std::printf(
                    "ours text_pass precision=%s threads=%d tokens=%zu seconds=%.3f tokens/s=%.0f "
                    "GFLOP/s=%.1f | prompt pass %.3f s, %.0f prompt tokens/s, %.1f GFLOP/s | "
                    "weights copied %.0f MB in %.2f s | h[0][0] = %.6f\n",
                    pname.c_str(), t, texts.tokens(), tt, text_tokens / tt, text_flop / tt / 1e9,
                    tp, prompt_tokens / tp, prompt_flop / tp / 1e9,
                    double(cpu.model().copied_bytes()) / 1e6, convert, double(r.last_hidden(0, 0)));
                if (profile) {
                    Gpt2CpuStageTimes st;
                    cache = {};
                    const auto tp0 = std::chrono::steady_clock::now();
                    cpu_text_pass(cpu.model(), texts, t, &st);
                    const double all =
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - tp0)
                            .count();
                    std::printf(
                        "  profile %s: total %.3f s = alloc %.3f + embed %.3f + layernorm %.3f + "
                        "qkv %.3f + "
                        "attention %.3f + attn proj %.3f + fc+gelu %.3f + mlp proj "
                        "%.3f + other %.3f\n",
                        pname.c_str(), all, st.alloc, st.embed, st.layernorm, st.qkv, st.attention,
                        st.attn_proj, st.fc_gelu, st.mlp_proj,
                        all - st.alloc - st.embed - st.layernorm - st.qkv - st.attention -
                            st.attn_proj - st.fc_gelu - st.mlp_proj);
                }
                if (!out_hidden.empty())
                    write_npy(out_hidden + "/ours_" + pname + ".npy", r.last_hidden.view());
            }
        }
        rusage ru{};
        getrusage(RUSAGE_SELF, &ru);
        std::printf("ours peak_rss_mb=%.0f\n", double(ru.ru_maxrss) / 1024.0);
    } catch (const Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
