#include "metrics/nn_descent.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "linalg/gemm.hpp"
#include "metrics/distances.hpp"

namespace promptlens {
namespace {

constexpr size_t kSuperBlock = 2048;  // rows whose joins are generated before being applied
constexpr size_t kJoinChunk = 32;     // rows per parallel join task (divides kSuperBlock)
constexpr size_t kTargetBlock = 512;  // rows per parallel apply task
constexpr size_t kQueryBlock = 64;    // foreign queries per parallel task
constexpr float kPlaneEps = 1e-8f;
constexpr size_t kSketchDims = 64;  // RP trees split a Gaussian sketch of this width    // |margin|
                                    // below this: the side is a coin flip

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Eight independent partial sums, combined in a fixed order: the same value whichever vector
// width a clone uses (compiled with -ffp-contract=off: no FMA), so results do not depend on the CPU
// path taken.
#define PROMPTLENS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
PROMPTLENS_CLONES float dot(const float* a, const float* b, size_t d) {
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t c = 0;
    for (; c + 8 <= d; c += 8)
        for (size_t u = 0; u < 8; ++u) s[u] += a[c + u] * b[c + u];
    for (; c < d; ++c) s[0] += a[c] * b[c];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

PROMPTLENS_CLONES float sq_dist(const float* a, const float* b, size_t d) {
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t c = 0;
    for (; c + 8 <= d; c += 8) {
        for (size_t u = 0; u < 8; ++u) {
            const float t = a[c + u] - b[c + u];
            s[u] += t * t;
        }
    }
    for (; c < d; ++c) s[0] += (a[c] - b[c]) * (a[c] - b[c]);
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// A 64-bit mix of four words (SplitMix64 finaliser chained): the sampling priority of a candidate.
uint64_t mix(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
    uint64_t h = a;
    for (uint64_t w : {b, c, d}) {
        h ^= w + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
        h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
        h = (h ^ (h >> 27)) * 0x94D049BB133111EBULL;
        h ^= h >> 31;
    }
    return h;
}

// (a_d, a_i) > (b_d, b_i) in the (distance, index) order.
template <class D>
bool after(D ad, int32_t ai, D bd, int32_t bi) {
    return ad > bd || (ad == bd && ai > bi);
}

// N bounded max-heaps of K (key, index, flag) entries ordered by (key, index): the root is the
// worst kept entry. Empty slots hold (max key, −1).
template <class Key>
class BoundedHeaps {
  public:
    BoundedHeaps(size_t n, size_t k, Key empty)
        : k_(k), key_(n * k, empty), index_(n * k, -1), flag_(n * k, 0) {}
    size_t k() const { return k_; }
    Key worst(size_t v) const { return key_[v * k_]; }
    const Key* keys(size_t v) const { return key_.data() + v * k_; }
    const int32_t* indices(size_t v) const { return index_.data() + v * k_; }
    uint8_t* flags(size_t v) { return flag_.data() + v * k_; }
    const uint8_t* flags(size_t v) const { return flag_.data() + v * k_; }

    // Keeps (key, j) if it beats the root and j is not already there.
    bool push(size_t v, Key key, int32_t j, uint8_t flag) {
        Key* K = key_.data() + v * k_;
        int32_t* I = index_.data() + v * k_;
        uint8_t* F = flag_.data() + v * k_;
        if (!after(K[0], I[0], key, j)) return false;
        for (size_t m = 0; m < k_; ++m)
            if (I[m] == j) return false;
        size_t i = 0;
        for (;;) {
            const size_t l = 2 * i + 1;
            if (l >= k_) break;
            size_t c = l;
            if (l + 1 < k_ && after(K[l + 1], I[l + 1], K[l], I[l])) c = l + 1;
            if (after(key, j, K[c], I[c])) break;
            K[i] = K[c];
            I[i] = I[c];
            F[i] = F[c];
            i = c;
        }
        K[i] = key;
        I[i] = j;
        F[i] = flag;
        return true;
    }

  private:
    size_t k_;
    std::vector<Key> key_;
    std::vector<int32_t> index_;
    std::vector<uint8_t> flag_;
};

struct Update {
    int32_t target, other;
    float d2;
};

}  // namespace

// One random-projection tree over the rows 0..N-1: internal nodes hold a hyperplane, leaves a
// range of `perm`.
struct NNDescentIndex::Forest {
    struct Node {
        float offset = 0;
        int32_t left = -1, right = -1;  // children; −1 for a leaf
        uint32_t begin = 0, end = 0;    // leaf rows: perm[begin, end)
        size_t plane = 0;               // offset of the normal in `planes`
    };
    std::vector<int32_t> perm;
    std::vector<Node> nodes;
    std::vector<float> planes;

    Forest(ConstMatView x, size_t leaf_size, Rng rng) : perm(x.rows()) {
        std::iota(perm.begin(), perm.end(), 0);
        const size_t d = x.cols();
        nodes.push_back({0, -1, -1, 0, static_cast<uint32_t>(x.rows()), 0});
        std::vector<size_t> stack = {0};
        std::vector<int32_t> left, right;
        std::vector<float> normal(d);
        while (!stack.empty()) {
            const size_t id = stack.back();
            stack.pop_back();
            const uint32_t b = nodes[id].begin, e = nodes[id].end, n = e - b;
            if (n <= leaf_size) continue;
            const uint32_t ia = static_cast<uint32_t>(rng.below(n));
            uint32_t ib = static_cast<uint32_t>(rng.below(n - 1));
            ib += ib >= ia;
            const float* xa = x.row(static_cast<size_t>(perm[b + ia])).data();
            const float* xb = x.row(static_cast<size_t>(perm[b + ib])).data();
            double offset = 0;
            for (size_t c = 0; c < d; ++c) {
                normal[c] = xa[c] - xb[c];
                offset -= static_cast<double>(normal[c]) * (0.5 * (double(xa[c]) + xb[c]));
            }
            left.clear();
            right.clear();
            for (uint32_t i = b; i < e; ++i) {
                const float m = dot(normal.data(), x.row(static_cast<size_t>(perm[i])).data(), d) +
                                static_cast<float>(offset);
                const bool to_left = std::fabs(m) < kPlaneEps ? (rng.next() >> 63) != 0 : m > 0;
                (to_left ? left : right).push_back(perm[i]);
            }
            if (left.empty() || right.empty()) {  // degenerate plane (duplicates): split in half
                left.assign(perm.begin() + b, perm.begin() + b + n / 2);
                right.assign(perm.begin() + b + n / 2, perm.begin() + e);
            }
            std::copy(left.begin(), left.end(), perm.begin() + b);
            std::copy(right.begin(), right.end(), perm.begin() + b + left.size());
            const uint32_t mid = b + static_cast<uint32_t>(left.size());
            nodes[id].plane = planes.size();
            nodes[id].offset = static_cast<float>(offset);
            planes.insert(planes.end(), normal.begin(), normal.end());
            nodes[id].left = static_cast<int32_t>(nodes.size());
            nodes.push_back({0, -1, -1, b, mid, 0});
            nodes[id].right = static_cast<int32_t>(nodes.size());
            nodes.push_back({0, -1, -1, mid, e, 0});
            stack.push_back(static_cast<size_t>(nodes[id].right));
            stack.push_back(static_cast<size_t>(nodes[id].left));
        }
    }

    std::vector<std::pair<uint32_t, uint32_t>> leaves() const {
        std::vector<std::pair<uint32_t, uint32_t>> out;
        for (const Node& nd : nodes)
            if (nd.left < 0) out.emplace_back(nd.begin, nd.end);
        return out;
    }

    // The leaf a query row falls in (ties at the plane go left).
    std::pair<uint32_t, uint32_t> leaf_of(const float* q, size_t d) const {
        size_t id = 0;
        while (nodes[id].left >= 0) {
            const float m = dot(planes.data() + nodes[id].plane, q, d) + nodes[id].offset;
            id = static_cast<size_t>(m >= 0 ? nodes[id].left : nodes[id].right);
        }
        return {nodes[id].begin, nodes[id].end};
    }
};

NNDescentIndex::~NNDescentIndex() = default;

Matrix NNDescentIndex::sketch_rows(ConstMatView x) const {
    if (sketch_.empty()) return to_matrix(x);
    Matrix out(x.rows(), kSketchDims);
    for (size_t r0 = 0; r0 < x.rows(); r0 += kTargetBlock) {  // fixed blocks: same bytes always
        const size_t r1 = std::min(x.rows(), r0 + kTargetBlock);
        blas::gemm(Trans::N, Trans::N, 1.0f, x.row_range(r0, r1), sketch_, 0.0f,
                   out.row_range(r0, r1));
    }
    return out;
}

NNDescentIndex::NNDescentIndex(ConstMatView data, Metric metric, const NNDescentOptions& options)
    : metric_(metric),
      n_(data.rows()),
      dims_(data.cols()),
      k_(options.n_neighbors),
      source_(data),
      options_(options) {
    require(n_ <= static_cast<size_t>(INT32_MAX), "NN-descent: {} rows exceed int32", n_);
    require(k_ >= 1 && k_ < n_,
            "NN-descent: graph of {} neighbours requested on {} rows; need 1 <= n_neighbors < rows",
            k_, n_);
    require(options.delta >= 0, "NN-descent: delta must be >= 0, got {}", options.delta);
    require_finite(data, "NN-descent");
    const int threads = options.threads;
    const auto t_start = std::chrono::steady_clock::now();

    // Prepared rows: the Euclidean data centred (the GEMM form ‖a‖² + ‖b‖² − 2a·b then loses no
    // digits to a common offset), cosine data normalised.
    if (metric == Metric::cosine) {
        points_ = cosine_rows(data);
    } else {
        mean_.assign(dims_, 0.0);
        for (size_t i = 0; i < n_; ++i)
            for (size_t c = 0; c < dims_; ++c) mean_[c] += data(i, c);
        for (double& m : mean_) m /= static_cast<double>(n_);
        points_ = Matrix(n_, dims_);
        for (size_t i = 0; i < n_; ++i)
            for (size_t c = 0; c < dims_; ++c)
                points_(i, c) = static_cast<float>(data(i, c) - mean_[c]);
    }
    const size_t d = points_.cols();
    norms_ = sq_norms(points_);

    NNDescentDetails& det = details_;
    det.n_trees = options.n_trees > 0
                      ? options.n_trees
                      : std::min<size_t>(
                            32, 5 + static_cast<size_t>(std::lround(std::pow(double(n_), 0.25))));
    det.leaf_size = options.leaf_size > 0 ? options.leaf_size : std::max<size_t>(60, k_ + 1);
    det.max_candidates = options.max_candidates > 0 ? options.max_candidates : 30;
    const size_t max_iter =
        options.max_iterations > 0
            ? options.max_iterations
            : std::max<size_t>(5, static_cast<size_t>(std::lround(std::log2(n_))));
    const size_t mc = det.max_candidates;

    // 1. RP forest, one seeded stream per tree, built on a Gaussian sketch of the rows (N×64, in
    //    cache; a hyperplane there is a random hyperplane of the full space too).
    if (d > kSketchDims) {
        Rng rng(options.seed, 0x5EED);
        sketch_ = Matrix(d, kSketchDims);
        for (float& v : sketch_.values()) v = static_cast<float>(rng.normal());
    }
    const Matrix sketched = sketch_rows(points_);
    std::vector<std::unique_ptr<Forest>> trees(det.n_trees);
    parallel_for(det.n_trees, threads, [&](size_t t) {
        trees[t] = std::make_unique<Forest>(sketched.view(), det.leaf_size, Rng(options.seed, t));
    });

    // Rows renumbered in the first tree's leaf order, so that the rows a join gathers (near each
    // other) sit near each other in memory. Internal ids from here on; order_ maps them back.
    order_ = trees[0]->perm;
    rank_.resize(n_);
    for (size_t r = 0; r < n_; ++r) rank_[static_cast<size_t>(order_[r])] = static_cast<int32_t>(r);
    {
        Matrix sorted(n_, d);
        for (size_t r = 0; r < n_; ++r) {
            auto src = points_.row(static_cast<size_t>(order_[r]));
            std::copy(src.begin(), src.end(), sorted.row(r).begin());
        }
        points_ = std::move(sorted);
        norms_ = sq_norms(points_);
        for (auto& tree : trees)
            for (int32_t& p : tree->perm) p = rank_[static_cast<size_t>(p)];
    }

    BoundedHeaps<float> heaps(n_, k_, INFINITY);
    // d² of prepared rows ia, ib from their dot product g.
    auto pair_d2 = [&](float g, int32_t ia, int32_t ib) {
        const double v = norms_[static_cast<size_t>(ia)] + norms_[static_cast<size_t>(ib)] -
                         2.0 * static_cast<double>(g);
        return static_cast<float>(v > 0 ? v : 0.0);
    };
    // Leaves of one tree are disjoint: each row's list is touched by one leaf only.
    for (const auto& tree : trees) {
        const auto leaves = tree->leaves();
        parallel_for(leaves.size(), threads, [&](size_t li) {
            const auto [b, e] = leaves[li];
            const size_t L = e - b;
            if (L < 2) return;
            Matrix rows(L, d);
            for (size_t i = 0; i < L; ++i) {
                auto src = points_.row(static_cast<size_t>(tree->perm[b + i]));
                std::copy(src.begin(), src.end(), rows.row(i).begin());
            }
            Matrix g(L, L);
            blas::gemm(Trans::N, Trans::T, 1.0f, rows, rows, 0.0f, g);
            for (size_t i = 0; i < L; ++i) {
                const int32_t pi = tree->perm[b + i];
                for (size_t j = i + 1; j < L; ++j) {
                    const int32_t pj = tree->perm[b + j];
                    const float d2 = pair_d2(g(i, j), pi, pj);
                    heaps.push(static_cast<size_t>(pi), d2, pj, 1);
                    heaps.push(static_cast<size_t>(pj), d2, pi, 1);
                }
            }
        });
    }
    first_tree_ = std::move(trees[0]);
    trees.clear();
    // Rows whose leaves were too small to fill K slots: seeded random rows.
    parallel_for(chunk_count(n_, kTargetBlock), threads, [&](size_t blk) {
        for (size_t v = blk * kTargetBlock; v < std::min(n_, (blk + 1) * kTargetBlock); ++v) {
            size_t filled = 0;
            for (size_t m = 0; m < k_; ++m) filled += heaps.indices(v)[m] >= 0;
            Rng rng(options.seed, 1000003 + v);
            for (size_t tries = 0; filled < k_; ++tries) {
                const size_t j = tries < 8 * k_ ? rng.below(n_) : (tries - 8 * k_) % n_;
                if (j == v) continue;
                const float d2 = sq_dist(points_.row(v).data(), points_.row(j).data(), d);
                filled += heaps.push(v, d2, static_cast<int32_t>(j), 1);
            }
        }
    });
    det.seconds_forest = seconds_since(t_start);

    // 2. NN-descent rounds.
    const auto t_descent = std::chrono::steady_clock::now();
    BoundedHeaps<uint64_t> new_c(n_, mc, UINT64_MAX), old_c(n_, mc, UINT64_MAX);
    const size_t n_targets = chunk_count(n_, kTargetBlock);
    const size_t chunks_per_super = kSuperBlock / kJoinChunk;
    std::vector<std::vector<Update>> buckets(chunks_per_super * n_targets);
    for (size_t round = 0; round < max_iter; ++round) {
        // Candidates: a seeded sample of each row's neighbours and reverse neighbours. The
        // priority depends only on (seed, round, row, candidate), so the sample is a function of
        // the graph, not of the order of offers.
        new_c = BoundedHeaps<uint64_t>(n_, mc, UINT64_MAX);
        old_c = BoundedHeaps<uint64_t>(n_, mc, UINT64_MAX);
        for (size_t v = 0; v < n_; ++v) {
            const int32_t* I = heaps.indices(v);
            const uint8_t* F = heaps.flags(v);
            for (size_t m = 0; m < k_; ++m) {
                if (I[m] < 0) continue;
                const auto j = static_cast<size_t>(I[m]);
                auto& c = F[m] ? new_c : old_c;
                c.push(v, mix(options.seed, round, v, j), I[m], 0);
                c.push(j, mix(options.seed, round, j, v), static_cast<int32_t>(v), 0);
            }
        }
        // Sampled "new" forward neighbours become old.
        parallel_for(n_targets, threads, [&](size_t blk) {
            for (size_t v = blk * kTargetBlock; v < std::min(n_, (blk + 1) * kTargetBlock); ++v) {
                const int32_t* I = heaps.indices(v);
                uint8_t* F = heaps.flags(v);
                const int32_t* C = new_c.indices(v);
                for (size_t m = 0; m < k_; ++m)
                    if (F[m] && std::find(C, C + mc, I[m]) != C + mc) F[m] = 0;
            }
        });

        size_t changed = 0;
        for (size_t s0 = 0; s0 < n_; s0 += kSuperBlock) {
            const size_t s1 = std::min(n_, s0 + kSuperBlock);
            for (auto& b : buckets) b.clear();
            // Generate: read-only on the graph.
            parallel_for(chunk_count(s1 - s0, kJoinChunk), threads, [&](size_t ch) {
                std::vector<int32_t> cand;
                std::vector<float> rows_buf(2 * mc * d), g_buf(2 * mc * mc);
                std::vector<Update>* out = buckets.data() + ch * n_targets;
                for (size_t v = s0 + ch * kJoinChunk; v < std::min(s1, s0 + (ch + 1) * kJoinChunk);
                     ++v) {
                    cand.clear();
                    for (size_t m = 0; m < mc; ++m)
                        if (new_c.indices(v)[m] >= 0) cand.push_back(new_c.indices(v)[m]);
                    const size_t nn = cand.size();
                    if (nn == 0) continue;
                    for (size_t m = 0; m < mc; ++m)
                        if (old_c.indices(v)[m] >= 0) cand.push_back(old_c.indices(v)[m]);
                    const size_t nc = cand.size();
                    const MatView rows(rows_buf.data(), nc, d), g(g_buf.data(), nn, nc);
                    for (size_t i = 0; i < nc; ++i) {
                        auto src = points_.row(static_cast<size_t>(cand[i]));
                        std::copy(src.begin(), src.end(), rows.row(i).begin());
                    }
                    blas::gemm(Trans::N, Trans::T, 1.0f, ConstMatView(rows.row_range(0, nn)),
                               ConstMatView(rows), 0.0f, g);
                    for (size_t a = 0; a < nn; ++a) {
                        const int32_t p = cand[a];
                        const float tp = heaps.worst(static_cast<size_t>(p));
                        for (size_t b = a + 1; b < nc; ++b) {
                            const int32_t q = cand[b];
                            if (p == q) continue;
                            const float d2 = pair_d2(g(a, b), p, q);
                            if (d2 <= tp)
                                out[static_cast<size_t>(p) / kTargetBlock].push_back({p, q, d2});
                            if (d2 <= heaps.worst(static_cast<size_t>(q)))
                                out[static_cast<size_t>(q) / kTargetBlock].push_back({q, p, d2});
                        }
                    }
                }
            });
            // Apply: each target block takes its updates in chunk order.
            std::vector<size_t> counts(n_targets, 0);
            parallel_for(n_targets, threads, [&](size_t tb) {
                size_t c = 0;
                for (size_t ch = 0; ch < chunks_per_super; ++ch)
                    for (const Update& u : buckets[ch * n_targets + tb])
                        c += heaps.push(static_cast<size_t>(u.target), u.d2, u.other, 1);
                counts[tb] = c;
            });
            for (size_t c : counts) changed += c;
        }
        det.updates.push_back(changed);
        det.iterations = round + 1;
        if (static_cast<double>(changed) <=
            options.delta * static_cast<double>(n_) * static_cast<double>(k_)) {
            det.converged = true;
            break;
        }
    }

    // 3. Sorted lists, and the reverse edges for the graph search.
    graph_.resize(n_ * k_);
    graph_d2_.resize(n_ * k_);
    parallel_for(n_targets, threads, [&](size_t blk) {
        std::vector<std::pair<float, int32_t>> row(k_);
        for (size_t r = blk * kTargetBlock; r < std::min(n_, (blk + 1) * kTargetBlock); ++r) {
            for (size_t m = 0; m < k_; ++m)
                row[m] = {heaps.keys(r)[m], order_[static_cast<size_t>(heaps.indices(r)[m])]};
            std::sort(row.begin(), row.end());
            const auto v = static_cast<size_t>(order_[r]);
            for (size_t m = 0; m < k_; ++m) {
                graph_[v * k_ + m] = row[m].second;
                graph_d2_[v * k_ + m] = row[m].first;
            }
        }
    });
    reverse_start_.assign(n_ + 1, 0);
    for (int32_t j : graph_) ++reverse_start_[static_cast<size_t>(j) + 1];
    for (size_t v = 0; v < n_; ++v) reverse_start_[v + 1] += reverse_start_[v];
    reverse_.resize(graph_.size());
    std::vector<size_t> fill(reverse_start_.begin(), reverse_start_.end() - 1);
    for (size_t v = 0; v < n_; ++v)
        for (size_t m = 0; m < k_; ++m)
            reverse_[fill[static_cast<size_t>(graph_[v * k_ + m])]++] = static_cast<int32_t>(v);
    det.seconds_descent = seconds_since(t_descent);
}

Neighbors NNDescentIndex::search(ConstMatView queries, size_t k, std::span<const int64_t> exclude,
                                 int threads) const {
    check_neighbor_request(n_, dims_, queries, k, exclude);
    const bool same_rows = queries.data() == source_.data() && queries.rows() == n_ &&
                           queries.stride() == source_.stride();
    if (same_rows) {
        bool self = exclude.size() == n_;
        for (size_t q = 0; self && q < n_; ++q) self = exclude[q] == static_cast<int64_t>(q);
        if (self || exclude.empty()) return graph_prefix(k, !self);
    }
    return graph_search(queries, k, exclude, threads);
}

Neighbors NNDescentIndex::graph_prefix(size_t k, bool include_self) const {
    const size_t from_graph = include_self ? k - 1 : k;
    require(from_graph <= k_,
            "NN-descent: {} neighbours requested but the graph was built with n_neighbors = {}; "
            "build the index with n_neighbors >= k",
            from_graph, k_);
    Neighbors r;
    r.queries = n_;
    r.k = k;
    r.index.resize(n_ * k);
    r.distance.resize(n_ * k);
    for (size_t v = 0; v < n_; ++v) {
        size_t out = 0;
        bool self_done = !include_self;
        for (size_t m = 0; m < from_graph; ++m) {
            const float d2 = graph_d2_[v * k_ + m];
            const int32_t j = graph_[v * k_ + m];
            if (!self_done && after(d2, j, 0.0f, static_cast<int32_t>(v))) {
                r.index[v * k + out] = static_cast<int32_t>(v);
                r.distance[v * k + out++] = 0.0f;
                self_done = true;
            }
            r.index[v * k + out] = j;
            r.distance[v * k + out++] = static_cast<float>(distance_from_sq(metric_, d2));
        }
        if (!self_done) {
            r.index[v * k + out] = static_cast<int32_t>(v);
            r.distance[v * k + out] = 0.0f;
        }
    }
    return r;
}

Neighbors NNDescentIndex::graph_search(ConstMatView queries_in, size_t k,
                                       std::span<const int64_t> exclude, int threads) const {
    Matrix q = metric_ == Metric::cosine ? cosine_rows(queries_in) : to_matrix(queries_in);
    if (metric_ == Metric::euclidean)
        for (size_t i = 0; i < q.rows(); ++i)
            for (size_t c = 0; c < dims_; ++c)
                q(i, c) = static_cast<float>(queries_in(i, c) - mean_[c]);
    const size_t d = points_.cols();
    const size_t pool =
        std::min(n_, std::max(k + 1, options_.search_pool > 0 ? options_.search_pool
                                                              : std::max<size_t>(2 * k, 64)));
    Neighbors r;
    r.queries = q.rows();
    r.k = k;
    r.index.assign(r.queries * k, -1);
    r.distance.assign(r.queries * k, 0.0f);
    parallel_for(chunk_count(q.rows(), kQueryBlock), threads, [&](size_t blk) {
        std::vector<uint32_t> seen(n_, UINT32_MAX);
        std::vector<std::pair<float, int32_t>> best, frontier;  // max-heap, min-heap
        auto worse = [](const auto& a, const auto& b) { return a < b; };
        auto better = [](const auto& a, const auto& b) { return b < a; };
        for (size_t qi = blk * kQueryBlock; qi < std::min(q.rows(), (blk + 1) * kQueryBlock);
             ++qi) {
            const float* x = q.row(qi).data();
            const auto stamp = static_cast<uint32_t>(qi);
            best.clear();
            frontier.clear();
            auto visit = [&](int32_t j) {
                if (seen[static_cast<size_t>(j)] == stamp) return;
                seen[static_cast<size_t>(j)] = stamp;
                const std::pair<float, int32_t> e{
                    sq_dist(x,
                            points_.row(static_cast<size_t>(rank_[static_cast<size_t>(j)])).data(),
                            d),
                    j};
                if (best.size() == pool && !(e < best.front())) return;
                best.push_back(e);
                std::push_heap(best.begin(), best.end(), worse);
                if (best.size() > pool) {
                    std::pop_heap(best.begin(), best.end(), worse);
                    best.pop_back();
                }
                frontier.push_back(e);
                std::push_heap(frontier.begin(), frontier.end(), better);
            };
            const Matrix xs = sketch_rows(q.row_range(qi, qi + 1));
            const auto [lb, le] = first_tree_->leaf_of(xs.row(0).data(), xs.cols());
            for (uint32_t i = lb; i < le; ++i)
                visit(order_[static_cast<size_t>(first_tree_->perm[i])]);
            while (!frontier.empty()) {
                std::pop_heap(frontier.begin(), frontier.end(), better);
                const auto cur = frontier.back();
                frontier.pop_back();
                if (best.size() == pool && best.front() < cur) break;
                const auto v = static_cast<size_t>(cur.second);
                for (size_t m = 0; m < k_; ++m) visit(graph_[v * k_ + m]);
                for (size_t e = reverse_start_[v]; e < reverse_start_[v + 1]; ++e)
                    visit(reverse_[e]);
            }
            if (best.size() < pool)  // the graph component was too small: scan every row
                for (size_t j = 0; j < n_; ++j) visit(static_cast<int32_t>(j));
            // Final order by exact double distances, ties by index.
            std::vector<std::pair<double, int32_t>> exact;
            const int64_t skip = exclude.empty() ? -1 : exclude[qi];
            for (const auto& e : best)
                if (e.second != skip)
                    exact.emplace_back(
                        exact_sq_distance(
                            x,
                            points_.row(static_cast<size_t>(rank_[static_cast<size_t>(e.second)]))
                                .data(),
                            d),
                        e.second);
            std::sort(exact.begin(), exact.end());
            for (size_t m = 0; m < std::min(k, exact.size()); ++m) {
                r.index[qi * k + m] = exact[m].second;
                r.distance[qi * k + m] =
                    static_cast<float>(distance_from_sq(metric_, exact[m].first));
            }
        }
    });
    return r;
}

}  // namespace promptlens
