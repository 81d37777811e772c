#include "embed/tsne_affinity.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "metrics/distances.hpp"

namespace promptlens {
namespace {

constexpr size_t kRowChunk = 256;  // rows per parallel chunk (fixed: results do not depend on it)

// sklearn's _utils.pyx constants.
constexpr int kSearchSteps = 100;
constexpr double kEntropyTolerance = 1e-5;
constexpr double kEpsilonSum = 1e-8;  // EPSILON_DBL: a row whose weights all underflow

}  // namespace

const char* to_string(TsneMetric metric) {
    return metric == TsneMetric::cosine ? "cosine" : "euclidean";
}

size_t tsne_neighbor_count(size_t n, double perplexity) {
    const auto wanted = static_cast<size_t>(3.0 * perplexity + 1.0);  // int() truncates, p > 0
    return std::min(n - 1, wanted);
}

void check_tsne_perplexity(size_t n, double perplexity) {
    require(n >= 3, "t-SNE: {} rows; need at least 3 rows", n);
    require(std::isfinite(perplexity) && perplexity > 0,
            "t-SNE: perplexity must be positive, got {}", perplexity);
    require(
        perplexity < static_cast<double>(n - 1),
        "t-SNE: perplexity {} with {} rows; the perplexity must be less than n_samples − 1 = {} "
        "(scikit-learn: \"perplexity must be less than n_samples\"; with at most N − 1 "
        "neighbours a perplexity of N − 1 or more cannot be reached)",
        perplexity, n, n - 1);
}

Neighbors tsne_knn(ConstMatView x, size_t k, int threads, NeighborMethod method, uint64_t seed) {
    NeighborIndexOptions o;
    o.method = method;
    o.max_k = k;
    o.seed = seed;
    o.threads = threads;
    auto index = make_neighbor_index(x, o);
    return self_neighbors(*index, x, k, threads);
}

Matrix tsne_neighbor_sq_distances(ConstMatView x, std::span<const int32_t> neighbors, size_t k,
                                  int threads) {
    const size_t n = x.rows(), d = x.cols();
    require(neighbors.size() == n * k, "t-SNE: {} neighbour ids for {} rows × k = {}",
            neighbors.size(), n, k);
    Matrix sq(n, k);
    parallel_for(chunk_count(n, kRowChunk), threads, [&](size_t chunk) {
        const size_t end = std::min(n, (chunk + 1) * kRowChunk);
        for (size_t i = chunk * kRowChunk; i < end; ++i) {
            const float* xi = x.row(i).data();
            for (size_t c = 0; c < k; ++c) {
                const int32_t j = neighbors[i * k + c];
                require(j >= 0 && static_cast<size_t>(j) < n,
                        "t-SNE: neighbour id {} of row {} outside [0, {})", j, i, n);
                sq(i, c) = static_cast<float>(
                    exact_sq_distance(xi, x.row(static_cast<size_t>(j)).data(), d));
            }
        }
    });
    return sq;
}

MatrixD binary_search_perplexity(MatrixView<const float> sq, double perplexity, int threads,
                                 std::span<double> beta, size_t* rows_not_converged) {
    const size_t n = sq.rows(), k = sq.cols();
    require(beta.empty() || beta.size() == n, "t-SNE: β output has {} entries for {} rows",
            beta.size(), n);
    const double desired_entropy = std::log(perplexity);
    MatrixD p(n, k);
    std::vector<unsigned char> missed(n, 0);
    parallel_for(chunk_count(n, kRowChunk), threads, [&](size_t chunk) {
        const size_t end = std::min(n, (chunk + 1) * kRowChunk);
        for (size_t i = chunk * kRowChunk; i < end; ++i) {
            const float* di = sq.row(i).data();
            double* pi = p.row(i).data();
            double b = 1.0;
            double b_min = -std::numeric_limits<double>::infinity();
            double b_max = std::numeric_limits<double>::infinity();
            bool reached = false;
            for (int step = 0; step < kSearchSteps; ++step) {
                double sum = 0;
                for (size_t j = 0; j < k; ++j) {
                    pi[j] = std::exp(-static_cast<double>(di[j]) * b);
                    sum += pi[j];
                }
                if (sum == 0.0) sum = kEpsilonSum;
                double sum_dp = 0;
                for (size_t j = 0; j < k; ++j) {
                    pi[j] /= sum;
                    sum_dp += static_cast<double>(di[j]) * pi[j];
                }
                const double entropy = std::log(sum) + b * sum_dp;
                const double diff = entropy - desired_entropy;
                if (std::fabs(diff) <= kEntropyTolerance) {
                    reached = true;
                    break;
                }
                if (diff > 0) {
                    b_min = b;
                    b = std::isinf(b_max) ? b * 2.0 : (b + b_max) / 2.0;
                } else {
                    b_max = b;
                    b = std::isinf(b_min) ? b / 2.0 : (b + b_min) / 2.0;
                }
            }
            if (!beta.empty()) beta[i] = b;
            missed[i] = reached ? 0 : 1;
        }
    });
    if (rows_not_converged) {
        *rows_not_converged = static_cast<size_t>(std::count(missed.begin(), missed.end(), 1));
    }
    return p;
}

TsneAffinities joint_probabilities_nn(std::span<const int32_t> neighbors,
                                      MatrixView<const float> sq, double perplexity, int threads) {
    const size_t n = sq.rows(), k = sq.cols();
    require(neighbors.size() == n * k, "t-SNE: {} neighbour ids for {} rows × k = {}",
            neighbors.size(), n, k);
    require(n <= static_cast<size_t>(std::numeric_limits<int32_t>::max()),
            "t-SNE: {} rows exceed the int32 column indices", n);

    // Each row in column order (sklearn's sort_indices()), self excluded.
    std::vector<int32_t> cols(n * k);
    Matrix sorted_sq(n, k);
    parallel_for(chunk_count(n, kRowChunk), threads, [&](size_t chunk) {
        const size_t end = std::min(n, (chunk + 1) * kRowChunk);
        std::vector<std::pair<int32_t, float>> row(k);
        for (size_t i = chunk * kRowChunk; i < end; ++i) {
            for (size_t c = 0; c < k; ++c) {
                const int32_t j = neighbors[i * k + c];
                require(j >= 0 && static_cast<size_t>(j) < n && static_cast<size_t>(j) != i,
                        "t-SNE: neighbour id {} of row {} is outside [0, {}) or the row itself", j,
                        i, n);
                row[c] = {j, sq(i, c)};
            }
            std::sort(row.begin(), row.end(),
                      [](const auto& a, const auto& b) { return a.first < b.first; });
            for (size_t c = 0; c < k; ++c) {
                require(c == 0 || row[c].first != row[c - 1].first,
                        "t-SNE: row {} lists neighbour {} twice", i, row[c].first);
                cols[i * k + c] = row[c].first;
                sorted_sq(i, c) = row[c].second;
            }
        }
    });

    TsneAffinities out;
    out.neighbors = k;
    out.beta.assign(n, 0.0);
    MatrixD cond =
        binary_search_perplexity(sorted_sq, perplexity, threads, out.beta, &out.rows_not_converged);
    double beta_sum = 0;
    for (double b : out.beta) beta_sum += b;
    out.mean_sigma = std::sqrt(static_cast<double>(n) / beta_sum);

    // Transpose of the conditional matrix by counting sort: row j of Cᵀ lists (i, c_ij) for the
    // rows i that have j as a neighbour, in increasing i because rows are visited in order.
    std::vector<int64_t> t_ptr(n + 1, 0);
    for (int32_t j : cols) ++t_ptr[static_cast<size_t>(j) + 1];
    for (size_t j = 0; j < n; ++j) t_ptr[j + 1] += t_ptr[j];
    std::vector<int32_t> t_idx(n * k);
    std::vector<double> t_val(n * k);
    {
        std::vector<int64_t> fill(t_ptr.begin(), t_ptr.end() - 1);
        for (size_t i = 0; i < n; ++i) {
            for (size_t c = 0; c < k; ++c) {
                const auto j = static_cast<size_t>(cols[i * k + c]);
                const auto at = static_cast<size_t>(fill[j]++);
                t_idx[at] = static_cast<int32_t>(i);
                t_val[at] = cond(i, c);
            }
        }
    }

    // P = C + Cᵀ: merge two sorted rows per row (a + b is exact-commutative, so the pattern and
    // the values do not depend on which side an entry came from).
    CsrMatrix& p = out.p;
    p.n = n;
    p.indptr.assign(n + 1, 0);
    p.indices.reserve(2 * n * k);
    p.values.reserve(2 * n * k);
    for (size_t i = 0; i < n; ++i) {
        size_t a = i * k;
        const size_t a_end = a + k;
        auto b = static_cast<size_t>(t_ptr[i]);
        const auto b_end = static_cast<size_t>(t_ptr[i + 1]);
        while (a < a_end || b < b_end) {
            if (b == b_end || (a < a_end && cols[a] < t_idx[b])) {
                p.indices.push_back(cols[a]);
                p.values.push_back(cond.values()[a]);
                ++a;
            } else if (a == a_end || t_idx[b] < cols[a]) {
                p.indices.push_back(t_idx[b]);
                p.values.push_back(t_val[b]);
                ++b;
            } else {
                p.indices.push_back(cols[a]);
                p.values.push_back(cond.values()[a] + t_val[b]);
                ++a;
                ++b;
            }
        }
        p.indptr[i + 1] = static_cast<int64_t>(p.indices.size());
    }
    double total = 0;
    for (double v : p.values) total += v;
    total = std::max(total, std::numeric_limits<double>::epsilon());  // sklearn's MACHINE_EPSILON
    for (double& v : p.values) v /= total;
    return out;
}

TsneAffinities tsne_affinities(ConstMatView x, double perplexity, TsneMetric metric, int threads,
                               NeighborMethod neighbors, uint64_t seed) {
    const size_t n = x.rows();
    check_tsne_perplexity(n, perplexity);
    require(x.cols() >= 1, "t-SNE: the features have no columns");
    const size_t k = tsne_neighbor_count(n, perplexity);

    Matrix normalised;
    ConstMatView space = x;
    if (metric == TsneMetric::cosine) {
        normalised = to_matrix(x);
        for (size_t i = 0; i < n; ++i) {
            auto r = normalised.row(i);
            double s = 0;
            for (float v : r) s += static_cast<double>(v) * v;
            require(s > 0, "t-SNE (cosine): row {} is all zeros; the cosine distance is undefined",
                    i);
            const double inv = 1.0 / std::sqrt(s);
            for (float& v : r) v = static_cast<float>(v * inv);
        }
        space = normalised;
    }
    Neighbors nn = tsne_knn(space, k, threads, neighbors, seed);
    Matrix sq = tsne_neighbor_sq_distances(space, nn.index, k, threads);
    if (metric == TsneMetric::cosine) {
        for (float& e : sq.values()) {
            const double cos_dist = static_cast<double>(e) / 2.0;
            e = static_cast<float>(cos_dist * cos_dist);
        }
    }
    return joint_probabilities_nn(nn.index, sq, perplexity, threads);
}

}  // namespace promptlens
