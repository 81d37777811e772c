#include "train/prompt_init.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"

namespace promptlens::train {

PromptInit parse_prompt_init(const std::string& name) {
    if (name == "random") return PromptInit::random;
    if (name == "vocab") return PromptInit::vocab;
    if (name == "text") return PromptInit::text;
    fail("unknown prompt initialisation '{}' (random, vocab, text)", name);
}

const char* prompt_init_name(PromptInit init) {
    switch (init) {
        case PromptInit::random:
            return "random";
        case PromptInit::vocab:
            return "vocab";
        case PromptInit::text:
            return "text";
    }
    return "?";
}

MatrixD initial_prompt(const Gpt2Weights& w, PromptInit init, size_t rows, uint64_t seed,
                       std::span<const int32_t> text_ids) {
    const size_t C = w.config.n_embd, V = w.config.vocab_size;
    require(rows >= 1, "prompt initialisation: the prompt needs at least one row");
    MatrixD p(rows, C);
    Rng rng(seed);
    auto copy_row = [&](size_t i, size_t id) {
        const float* e = w.wte.data() + id * C;
        for (size_t c = 0; c < C; ++c) p(i, c) = e[c];
    };
    switch (init) {
        case PromptInit::random: {
            double sum = 0, sq = 0;
            for (float v : w.wte) {
                sum += v;
                sq += double(v) * v;
            }
            const double n = double(w.wte.size()), mean = sum / n;
            const double sd = std::sqrt(std::max(0.0, sq / n - mean * mean));
            for (double& v : p.values()) v = sd * rng.normal();
            break;
        }
        case PromptInit::vocab: {
            const size_t pool = std::min<size_t>(5000, V);
            require(rows <= pool,
                    "prompt initialisation: {} rows but only {} vocabulary rows to "
                    "draw from",
                    rows, pool);
            std::vector<size_t> ids(pool);
            std::iota(ids.begin(), ids.end(), size_t{0});
            for (size_t i = 0; i < rows; ++i) {  // partial Fisher-Yates
                const size_t j = i + size_t(rng.uniform() * double(pool - i));
                std::swap(ids[i], ids[std::min(j, pool - 1)]);
                copy_row(i, ids[i]);
            }
            break;
        }
        case PromptInit::text: {
            require(!text_ids.empty(), "prompt initialisation from text: the text has no tokens");
            for (size_t i = 0; i < rows; ++i) {
                const int32_t id = text_ids[i % text_ids.size()];
                require(id >= 0 && size_t(id) < V,
                        "prompt initialisation: token id {} is outside the vocabulary of {}", id,
                        V);
                copy_row(i, size_t(id));
            }
            break;
        }
    }
    return p;
}

}  // namespace promptlens::train
