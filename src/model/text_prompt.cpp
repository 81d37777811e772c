#include "model/text_prompt.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace promptlens {

Matrix text_prompt_embeddings(const Gpt2Weights& w, std::span<const int32_t> ids,
                              const std::string& name) {
    const size_t C = w.config.n_embd, V = w.config.vocab_size;
    require(!ids.empty(), "text prompt '{}': it has no tokens (an empty text?)", name);
    Matrix m(ids.size(), C);  // P×C
    for (size_t p = 0; p < ids.size(); ++p) {
        require(ids[p] >= 0 && static_cast<size_t>(ids[p]) < V,
                "text prompt '{}': token {} has id {}, outside the model's vocabulary of {}", name,
                p, ids[p], V);
        const float* src = w.wte.data() + static_cast<size_t>(ids[p]) * C;
        std::copy(src, src + C, m.row(p).begin());
    }
    return m;
}

}  // namespace promptlens
