// What a training loss looks at for each text: the final hidden state at the last prompt
// position (after ln_f, C values) or logits made from it with the tied LM head, either over the
// whole vocabulary (V values) or over chosen token ids (the label tokens, K values). Forward and
// backward of that last step, in double; the LM head is frozen like the rest of GPT-2.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "model/gpt2_weights.hpp"

namespace promptlens::train {

enum class OutputKind { hidden, logits, label_logits };

OutputKind parse_output_kind(const std::string& name);  // hidden | logits | label-logits
const char* output_kind_name(OutputKind kind);

struct OutputHead {
    OutputKind kind = OutputKind::label_logits;
    std::vector<int32_t> token_ids;  // label_logits: one token per class, in class order
};

size_t output_width(const Gpt2Weights& w, const OutputHead& head);  // C, V or K

// last_hidden (C) → output (C, V or K).
std::vector<double> head_forward(const Gpt2Weights& w, const OutputHead& head,
                                 std::span<const double> last_hidden);

// d_output (as above) → d_last_hidden (C).
std::vector<double> head_backward(const Gpt2Weights& w, const OutputHead& head,
                                  std::span<const double> d_output);

}  // namespace promptlens::train
