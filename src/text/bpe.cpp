#include "text/bpe.hpp"

#include <algorithm>
#include <bit>
#include <queue>
#include <unordered_set>

#include "core/error.hpp"

namespace promptlens::text {

Bpe::Bpe(const std::array<int32_t, 256>& byte_ids, const std::vector<BpeMerge>& merges)
    : byte_ids_(byte_ids), n_merges_(merges.size()) {
    const size_t size = std::bit_ceil(std::max<size_t>(16, 2 * merges.size()));
    table_.assign(size, Slot{});
    shift_ = 64 - std::countr_zero(size);
    std::unordered_set<int32_t> made(byte_ids.begin(), byte_ids.end());
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const BpeMerge& m = merges[rank];
        if (!made.count(m.left) || !made.count(m.right)) ordered_ = false;
        made.insert(m.merged);
        const uint64_t key = (uint64_t(uint32_t(m.left)) << 32) | uint32_t(m.right);
        size_t h = size_t((key * 0x9E3779B97F4A7C15ull) >> shift_);
        while (table_[h].key != kEmpty && table_[h].key != key) h = (h + 1) & (size - 1);
        table_[h] = Slot{key, int32_t(rank), m.merged};  // a repeated pair keeps its last rank
    }
}

void Bpe::encode_word(std::string_view word, std::vector<int32_t>& out) const {
    if (word.size() <= kShortWord || !ordered_) {
        encode_word_reference(word, out);
    } else {
        encode_word_heap(word, out);
    }
}

void Bpe::encode_word_reference(std::string_view word, std::vector<int32_t>& out) const {
    // word: the current symbols; each pass merges every occurrence of the best-ranked pair.
    thread_local std::vector<int32_t> cur, next;
    cur.clear();
    for (char c : word) cur.push_back(byte_ids_[uint8_t(c)]);
    while (cur.size() > 1) {
        const Slot* best = nullptr;
        for (size_t i = 0; i + 1 < cur.size(); ++i) {
            const Slot* s = find(cur[i], cur[i + 1]);
            if (s && (!best || s->rank < best->rank)) best = s;
        }
        if (!best) break;
        const int32_t first = int32_t(best->key >> 32), second = int32_t(uint32_t(best->key));
        next.clear();
        for (size_t i = 0; i < cur.size();) {
            if (i + 1 < cur.size() && cur[i] == first && cur[i + 1] == second) {
                next.push_back(best->merged);
                i += 2;
            } else {
                next.push_back(cur[i]);
                i += 1;
            }
        }
        cur.swap(next);
    }
    out.insert(out.end(), cur.begin(), cur.end());
}

void Bpe::encode_word_heap(std::string_view word, std::vector<int32_t>& out) const {
    const int32_t n = int32_t(word.size());
    std::vector<int32_t> id(n), prev(n), nxt(n);
    for (int32_t i = 0; i < n; ++i) {
        id[i] = byte_ids_[uint8_t(word[i])];
        prev[i] = i - 1;
        nxt[i] = i + 1 < n ? i + 1 : -1;
    }
    struct Cand {
        int32_t rank, pos, left, right;
        bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
    auto push = [&](int32_t pos) {
        if (pos < 0 || nxt[pos] < 0) return;
        if (const Slot* s = find(id[pos], id[nxt[pos]])) {
            heap.push(Cand{s->rank, pos, id[pos], id[nxt[pos]]});
        }
    };
    for (int32_t i = 0; i + 1 < n; ++i) push(i);
    while (!heap.empty()) {
        const Cand c = heap.top();
        heap.pop();
        const int32_t r = nxt[c.pos];
        // A stale entry: a symbol of the pair has since merged into a longer one. A symbol never
        // returns to an earlier id, so equal ids mean the pair is still there.
        if (id[c.pos] != c.left || r < 0 || id[r] != c.right) continue;
        id[c.pos] = find(c.left, c.right)->merged;
        id[r] = -1;
        nxt[c.pos] = nxt[r];
        if (nxt[r] >= 0) prev[nxt[r]] = c.pos;
        push(prev[c.pos]);
        push(c.pos);
    }
    for (int32_t i = 0; i >= 0; i = nxt[i]) out.push_back(id[i]);
}

}  // namespace promptlens::text
