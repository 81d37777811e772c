#include "train/output_head.hpp"

#include "core/error.hpp"

namespace promptlens::train {
namespace {

// Row `id` of the LM head (V×C).
const float* head_row(const Gpt2Weights& w, size_t id) {
    return w.lm_head.data() + id * w.config.n_embd;
}

size_t token_of(const Gpt2Weights& w, const OutputHead& head, size_t k) {
    if (head.kind == OutputKind::logits) return k;
    const int32_t id = head.token_ids[k];
    require(id >= 0 && size_t(id) < w.config.vocab_size,
            "output head: token id {} is outside the vocabulary of {}", id, w.config.vocab_size);
    return size_t(id);
}

}  // namespace

OutputKind parse_output_kind(const std::string& name) {
    if (name == "hidden") return OutputKind::hidden;
    if (name == "logits") return OutputKind::logits;
    if (name == "label-logits") return OutputKind::label_logits;
    fail("unknown output '{}' (hidden, logits, label-logits)", name);
}

const char* output_kind_name(OutputKind kind) {
    switch (kind) {
        case OutputKind::hidden:
            return "hidden";
        case OutputKind::logits:
            return "logits";
        case OutputKind::label_logits:
            return "label-logits";
    }
    return "?";
}

size_t output_width(const Gpt2Weights& w, const OutputHead& head) {
    switch (head.kind) {
        case OutputKind::hidden:
            return w.config.n_embd;
        case OutputKind::logits:
            return w.config.vocab_size;
        case OutputKind::label_logits:
            return head.token_ids.size();
    }
    return 0;
}

std::vector<double> head_forward(const Gpt2Weights& w, const OutputHead& head,
                                 std::span<const double> last_hidden) {
    const size_t C = w.config.n_embd;
    require(last_hidden.size() == C, "output head: {} hidden values, n_embd is {}",
            last_hidden.size(), C);
    if (head.kind == OutputKind::hidden) return {last_hidden.begin(), last_hidden.end()};
    std::vector<double> out(output_width(w, head));
    for (size_t k = 0; k < out.size(); ++k) {
        const float* e = head_row(w, token_of(w, head, k));
        double s = 0;
        for (size_t c = 0; c < C; ++c) s += last_hidden[c] * e[c];
        out[k] = s;
    }
    return out;
}

std::vector<double> head_backward(const Gpt2Weights& w, const OutputHead& head,
                                  std::span<const double> d_output) {
    const size_t C = w.config.n_embd;
    require(d_output.size() == output_width(w, head),
            "output head: {} output gradients, expected {}", d_output.size(),
            output_width(w, head));
    if (head.kind == OutputKind::hidden) return {d_output.begin(), d_output.end()};
    std::vector<double> dh(C);
    for (size_t k = 0; k < d_output.size(); ++k) {
        if (d_output[k] == 0) continue;
        const float* e = head_row(w, token_of(w, head, k));
        for (size_t c = 0; c < C; ++c) dh[c] += d_output[k] * e[c];
    }
    return dh;
}

}  // namespace promptlens::train
