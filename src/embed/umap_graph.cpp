#include "embed/umap_graph.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.hpp"
#include "core/parallel.hpp"

namespace promptlens {
namespace {

constexpr double kSmoothKTolerance = 1e-5;  // umap_.py SMOOTH_K_TOLERANCE
constexpr double kMinKDistScale = 1e-3;     // umap_.py MIN_K_DIST_SCALE
constexpr size_t kRowBlock = 1024;

// Coordinate entries → CSR with sorted columns; duplicates must not occur.
struct Entry {
    int32_t row, col;
    float value;
};

SparseGraph from_entries(std::vector<Entry>& e, size_t rows, size_t cols) {
    std::sort(e.begin(), e.end(), [](const Entry& x, const Entry& y) {
        return x.row != y.row ? x.row < y.row : x.col < y.col;
    });
    SparseGraph g;
    g.rows = rows;
    g.cols = cols;
    g.indptr.assign(rows + 1, 0);
    g.indices.reserve(e.size());
    g.values.reserve(e.size());
    for (const Entry& x : e) {
        if (x.value == 0.0f) continue;
        ++g.indptr[x.row + 1];
        g.indices.push_back(x.col);
        g.values.push_back(x.value);
    }
    for (size_t i = 0; i < rows; ++i) g.indptr[i + 1] += g.indptr[i];
    return g;
}

SparseGraph transpose(const SparseGraph& a) {
    SparseGraph t;
    t.rows = a.cols;
    t.cols = a.rows;
    t.indptr.assign(a.cols + 1, 0);
    for (int32_t c : a.indices) ++t.indptr[c + 1];
    for (size_t i = 0; i < a.cols; ++i) t.indptr[i + 1] += t.indptr[i];
    t.indices.resize(a.nnz());
    t.values.resize(a.nnz());
    std::vector<int64_t> next(t.indptr.begin(), t.indptr.end() - 1);
    for (size_t r = 0; r < a.rows; ++r)  // rows in order: each column's list comes out sorted
        for (int64_t p = a.indptr[r]; p < a.indptr[r + 1]; ++p) {
            const int64_t q = next[a.indices[p]]++;
            t.indices[q] = static_cast<int32_t>(r);
            t.values[q] = a.values[p];
        }
    return t;
}

}  // namespace

float SparseGraph::max_value() const {
    float m = 0;
    for (float v : values) m = std::max(m, v);
    return m;
}

SmoothKnn smooth_knn_dist(const Neighbors& knn, double local_connectivity, int threads) {
    const size_t n = knn.queries, k = knn.k;
    SmoothKnn s;
    s.sigmas.assign(n, 0);
    s.rhos.assign(n, 0);
    if (n == 0 || k == 0) return s;
    const double target = std::log2(static_cast<double>(k));
    // np.mean over every distance (the fallback scale for rows with ρ = 0), in double.
    double mean_all = 0;
    for (float d : knn.distance) mean_all += d;
    mean_all /= static_cast<double>(knn.distance.size());

    parallel_for(chunk_count(n, kRowBlock), threads, [&](size_t chunk) {
        const size_t end = std::min(n, (chunk + 1) * kRowBlock);
        std::vector<float> nonzero;
        for (size_t i = chunk * kRowBlock; i < end; ++i) {
            auto d = knn.distances_of(i);
            nonzero.clear();
            for (float x : d)
                if (x > 0.0f) nonzero.push_back(x);
            float rho = 0;
            if (static_cast<double>(nonzero.size()) >= local_connectivity) {
                const auto index = static_cast<size_t>(std::floor(local_connectivity));
                const double interpolation = local_connectivity - static_cast<double>(index);
                if (index > 0) {
                    rho = nonzero[index - 1];
                    if (interpolation > kSmoothKTolerance)
                        rho += static_cast<float>(interpolation *
                                                  (nonzero[index] - nonzero[index - 1]));
                } else {
                    rho = static_cast<float>(interpolation * nonzero[0]);
                }
            } else if (!nonzero.empty()) {
                rho = *std::max_element(nonzero.begin(), nonzero.end());
            }
            double lo = 0, hi = std::numeric_limits<double>::infinity(), mid = 1;
            for (int it = 0; it < 64; ++it) {
                double psum = 0;
                for (size_t j = 1; j < k; ++j) {  // umap-learn skips the first entry
                    const float dj = d[j] - rho;
                    psum += dj > 0 ? std::exp(-(static_cast<double>(dj) / mid)) : 1.0;
                }
                if (std::fabs(psum - target) < kSmoothKTolerance) break;
                if (psum > target) {
                    hi = mid;
                    mid = (lo + hi) / 2;
                } else {
                    lo = mid;
                    mid = std::isinf(hi) ? mid * 2 : (lo + hi) / 2;
                }
            }
            auto sigma = static_cast<float>(mid);
            if (rho > 0) {
                double mean_i = 0;
                for (float x : d) mean_i += x;
                mean_i /= static_cast<double>(k);
                if (sigma < kMinKDistScale * mean_i)
                    sigma = static_cast<float>(kMinKDistScale * mean_i);
            } else if (sigma < kMinKDistScale * mean_all) {
                sigma = static_cast<float>(kMinKDistScale * mean_all);
            }
            s.sigmas[i] = sigma;
            s.rhos[i] = rho;
        }
    });
    return s;
}

SparseGraph membership_strengths(const Neighbors& knn, const SmoothKnn& s, size_t cols,
                                 bool bipartite) {
    std::vector<Entry> e;
    e.reserve(knn.index.size());
    for (size_t i = 0; i < knn.queries; ++i) {
        auto idx = knn.of(i);
        auto d = knn.distances_of(i);
        for (size_t j = 0; j < knn.k; ++j) {
            if (idx[j] < 0) continue;
            float val;
            if (!bipartite && static_cast<size_t>(idx[j]) == i) {
                val = 0;
            } else if (d[j] - s.rhos[i] <= 0.0f || s.sigmas[i] == 0.0f) {
                val = 1;
            } else {
                val = static_cast<float>(std::exp(-((d[j] - s.rhos[i]) / s.sigmas[i])));
            }
            e.push_back({static_cast<int32_t>(i), idx[j], val});
        }
    }
    return from_entries(e, knn.queries, cols);
}

SparseGraph fuzzy_union(const SparseGraph& a) {
    require(a.rows == a.cols, "internal: fuzzy union of a {}×{} matrix", a.rows, a.cols);
    const SparseGraph t = transpose(a);
    SparseGraph u;
    u.rows = u.cols = a.rows;
    u.indptr.assign(a.rows + 1, 0);
    u.indices.reserve(2 * a.nnz());
    u.values.reserve(2 * a.nnz());
    for (size_t r = 0; r < a.rows; ++r) {  // merge the sorted rows of A and Aᵀ
        int64_t p = a.indptr[r], pe = a.indptr[r + 1], q = t.indptr[r], qe = t.indptr[r + 1];
        while (p < pe || q < qe) {
            int32_t col;
            float x = 0, y = 0;
            if (q >= qe || (p < pe && a.indices[p] < t.indices[q])) {
                col = a.indices[p];
                x = a.values[p++];
            } else if (p >= pe || t.indices[q] < a.indices[p]) {
                col = t.indices[q];
                y = t.values[q++];
            } else {
                col = a.indices[p];
                x = a.values[p++];
                y = t.values[q++];
            }
            const float v = (x + y) - x * y;  // float32, as scipy computes it
            if (v != 0.0f) {
                u.indices.push_back(col);
                u.values.push_back(v);
            }
        }
        u.indptr[r + 1] = static_cast<int64_t>(u.indices.size());
    }
    return u;
}

SparseGraph fuzzy_simplicial_set(const Neighbors& knn, int threads, SmoothKnn* smooth) {
    SmoothKnn s = smooth_knn_dist(knn, 1.0, threads);
    SparseGraph g = fuzzy_union(membership_strengths(knn, s, knn.queries, false));
    if (smooth) *smooth = std::move(s);
    return g;
}

SparseGraph prune_graph(const SparseGraph& g, float cut) {
    SparseGraph p;
    p.rows = g.rows;
    p.cols = g.cols;
    p.indptr.assign(g.rows + 1, 0);
    for (size_t r = 0; r < g.rows; ++r) {
        for (int64_t q = g.indptr[r]; q < g.indptr[r + 1]; ++q)
            if (g.values[q] >= cut) {
                p.indices.push_back(g.indices[q]);
                p.values.push_back(g.values[q]);
            }
        p.indptr[r + 1] = static_cast<int64_t>(p.indices.size());
    }
    return p;
}

double categorical_far_dist(double target_weight) {
    return target_weight < 1.0 ? 2.5 * (1.0 / (1.0 - target_weight)) : 1.0e12;
}

SparseGraph categorical_intersection(const SparseGraph& g, std::span<const int32_t> labels,
                                     double far_dist, double unknown_dist) {
    require(labels.size() == g.rows, "UMAP: {} labels for {} rows; need one label per row",
            labels.size(), g.rows);
    SparseGraph s = g;
    const double unknown = std::exp(-unknown_dist), far = std::exp(-far_dist);
    for (size_t r = 0; r < s.rows; ++r)
        for (int64_t p = s.indptr[r]; p < s.indptr[r + 1]; ++p) {
            const int32_t li = labels[r], lj = labels[s.indices[p]];
            if (li == -1 || lj == -1)
                s.values[p] = static_cast<float>(s.values[p] * unknown);
            else if (li != lj)
                s.values[p] = static_cast<float>(s.values[p] * far);
        }
    // eliminate_zeros, then sklearn normalize(norm="max") per row, then the union again.
    std::vector<Entry> e;
    e.reserve(s.nnz());
    for (size_t r = 0; r < s.rows; ++r) {
        float m = 0;
        for (int64_t p = s.indptr[r]; p < s.indptr[r + 1]; ++p) m = std::max(m, s.values[p]);
        for (int64_t p = s.indptr[r]; p < s.indptr[r + 1]; ++p)
            if (s.values[p] != 0.0f)
                e.push_back({static_cast<int32_t>(r), s.indices[p], s.values[p] / m});
    }
    return fuzzy_union(from_entries(e, s.rows, s.cols));
}

}  // namespace promptlens
