// The seam between callers of the GPT-2 forward pass and the code that computes it. Callers (the
// feature extractor, the CLI, benches) speak only these types and the abstract `Gpt2Backend`; the
// fast CPU path (model/gpt2_cpu.hpp) is one implementation, and a CUDA path can be added later as
// another subclass without touching any caller. The plain reference (model/gpt2_reference.hpp)
// stays outside the seam on purpose: it is the yardstick, one sequence at a time.
//
// Both operations work on many sequences at once, packed WITHOUT padding:
//  * text pass: N token sequences of different lengths back to back; sequence i has positions
//    0 … len_i−1 and causal attention only within itself. Produces each sequence's K/V cache
//    (no LM head).
//  * prompt pass: the same P soft-prompt embeddings are appended to every cached sequence at
//    positions start_i … start_i+P−1 (start_i = len_i by default, or given: the seed's
//    compatibility mode, see `hf_padded_prompt_starts`), attending to that sequence's cache and
//    causally to themselves. Returns the final hidden state (after ln_f) of each sequence's last
//    prompt position and optionally its logits. The cache is read, never modified, so several
//    prompts reuse one text pass.
// Row s of every result belongs to sequence s of the packed input: a caller that runs its dataset
// in length-sorted chunks (see `length_sorted_chunks` in gpt2_cpu.hpp) scatters the rows back.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/matrix.hpp"
#include "model/gpt2_reference.hpp"

namespace promptlens {

// N token sequences stored back to back: sequence s is ids[offsets[s], offsets[s+1]).
struct PackedTokens {
    std::vector<int32_t> ids;
    std::vector<size_t> offsets{0};  // N+1 entries, offsets[0] = 0

    void add(std::span<const int32_t> sequence) {
        ids.insert(ids.end(), sequence.begin(), sequence.end());
        offsets.push_back(ids.size());
    }
    size_t count() const { return offsets.size() - 1; }
    size_t tokens() const { return ids.size(); }
    size_t length(size_t s) const { return offsets[s + 1] - offsets[s]; }
    std::span<const int32_t> sequence(size_t s) const {
        return {ids.data() + offsets[s], length(s)};
    }
};

// The keys and values of N packed sequences (R = Σ len_i rows). Per layer an R×C matrix; rows
// [offsets[s], offsets[s+1]) are sequence s, head h in columns [h·hd, (h+1)·hd), keys before the
// 1/sqrt(hd) scaling: the same layout as the reference KvCache, stacked.
struct PackedKvCache {
    std::vector<size_t> offsets{0};  // N+1 entries
    std::vector<Matrix> k;           // n_layer × (R×C)
    std::vector<Matrix> v;           // n_layer × (R×C)

    size_t count() const { return offsets.size() - 1; }
    size_t length(size_t s) const { return offsets[s + 1] - offsets[s]; }
    // A copy of sequence s as a reference KvCache (tests, mixing with the reference prompt pass).
    KvCache sequence(size_t s) const {
        KvCache c;
        c.length = length(s);
        for (const auto& m : k) c.k.push_back(to_matrix(m.row_range(offsets[s], offsets[s + 1])));
        for (const auto& m : v) c.v.push_back(to_matrix(m.row_range(offsets[s], offsets[s + 1])));
        return c;
    }
};

struct BatchPromptOptions {
    // Empty (the default): every sequence's prompt starts at its own length ("per row").
    // Otherwise one start per sequence (the seed's compatibility mode: hf_padded_prompt_starts).
    std::vector<size_t> position_starts = {};
    LogitsRequest logits = LogitsRequest::none;  // LM head on each sequence's last position
    std::vector<int32_t> logit_token_ids = {};   // for LogitsRequest::selected, in that order
};

struct BatchPromptResult {
    std::vector<size_t> position_starts;  // N: the starts used
    Matrix last_hidden;                   // N×C after ln_f, at each sequence's last position
    Matrix logits;                        // N×V or N×(selected ids); empty for none
};

// A compute engine for GPT-2 with soft prompts. Implementations hold (or upload) the weights; the
// caches they return are plain host data so any backend's cache can be inspected and tested.
class Gpt2Backend {
  public:
    virtual ~Gpt2Backend() = default;
    virtual std::string name() const = 0;
    virtual PackedKvCache text_pass(const PackedTokens& texts) const = 0;
    // prompt: P×C input embeddings (the model adds wpe).
    virtual BatchPromptResult prompt_pass(const PackedKvCache& cache, ConstMatView prompt,
                                          const BatchPromptOptions& options = {}) const = 0;
};

}  // namespace promptlens
