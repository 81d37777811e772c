// Byte-level BPE on one pre-tokenised word: start from one symbol per byte, then repeatedly merge
// the adjacent pair with the lowest rank (its line in merges.txt) until no ranked pair is left.
// Symbols are vocabulary ids (every merge result of GPT-2 is itself a token), so the output is the
// word's token ids. Two implementations that give the same ids:
//  - `encode_word_reference`: HuggingFace GPT2Tokenizer.bpe() step for step (find the best pair,
//    merge all its occurrences left to right, repeat); O(n^2) in the word length.
//  - `encode_word`: the same order of merges from a min-heap of (rank, position) over a linked
//  list,
//    O(n log n), used for long words (a run of 10^5 letters would take the reference minutes). It
//    equals the reference whenever every merge uses only bytes and results of earlier merges, which
//    holds for trained BPE files (checked at construction; otherwise the reference is always used).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace promptlens::text {

struct BpeMerge {
    int32_t left = 0, right = 0;  // ids of the pair's two symbols
    int32_t merged = 0;           // id of the symbol they become
};

class Bpe {
  public:
    Bpe() = default;
    // `byte_ids[b]` is the id of the one-byte token for byte b; `merges` in rank order (rank =
    // index). A pair listed twice keeps its last rank, as in HuggingFace (a dict built from the
    // list).
    Bpe(const std::array<int32_t, 256>& byte_ids, const std::vector<BpeMerge>& merges);

    // Appends the ids of `word` (raw bytes, non-empty) to `out`.
    void encode_word(std::string_view word, std::vector<int32_t>& out) const;
    void encode_word_reference(std::string_view word, std::vector<int32_t>& out) const;
    void encode_word_heap(std::string_view word, std::vector<int32_t>& out) const;

    size_t n_merges() const { return n_merges_; }
    bool ordered() const { return ordered_; }  // whether the heap path is exact for these merges

    // Words of at most this many bytes use the reference loop (fastest for short words).
    static constexpr size_t kShortWord = 48;

  private:
    struct Slot {
        uint64_t key = kEmpty;  // (left << 32) | right
        int32_t rank = 0, merged = 0;
    };
    static constexpr uint64_t kEmpty = ~uint64_t(0);

    // The merge of (left, right), or nullptr when the pair has no rank.
    const Slot* find(int32_t left, int32_t right) const {
        const uint64_t key = (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
        size_t h = size_t((key * 0x9E3779B97F4A7C15ull) >> shift_);
        while (true) {
            const Slot& s = table_[h];
            if (s.key == key) return &s;
            if (s.key == kEmpty) return nullptr;
            h = (h + 1) & (table_.size() - 1);
        }
    }

    std::array<int32_t, 256> byte_ids_{};
    std::vector<Slot> table_;  // open addressing, power-of-two size, at most half full
    int shift_ = 64;
    size_t n_merges_ = 0;
    bool ordered_ = true;
};

}  // namespace promptlens::text
