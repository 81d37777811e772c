#include "metrics/neighbors.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "metrics/distances.hpp"

namespace promptlens {
namespace {

constexpr size_t kQueryBlock = 256;
constexpr size_t kDataTile = 2048;

}  // namespace

void check_neighbor_request(size_t n_data, size_t d_data, ConstMatView queries, size_t k,
                            std::span<const int64_t> exclude) {
    require(queries.cols() == d_data, "neighbours: queries have {} columns but the index has {}",
            queries.cols(), d_data);
    require(k >= 1, "neighbours: k must be at least 1, got 0");
    require(exclude.empty() || exclude.size() == queries.rows(),
            "neighbours: {} exclusions for {} queries; give none or one per query", exclude.size(),
            queries.rows());
    const bool any_excluded =
        std::any_of(exclude.begin(), exclude.end(), [](int64_t e) { return e >= 0; });
    require(k + (any_excluded ? 1 : 0) <= n_data,
            "neighbours: {} neighbours requested from {} indexed rows{}; need k < rows", k, n_data,
            any_excluded ? " (each query excluding itself)" : "");
    for (size_t q = 0; q < exclude.size(); ++q) {
        require(exclude[q] < static_cast<int64_t>(n_data),
                "neighbours: query {} excludes row {}, but the index has {} rows", q, exclude[q],
                n_data);
    }
}

namespace {

// The k best (smallest squared distance, then smallest index) of a stream of candidates offered
// in increasing index order: a candidate equal to the current worst never displaces it.
class TopK {
  public:
    explicit TopK(size_t k) : k_(k) { items_.reserve(k); }
    void offer(double d2, int32_t j) {
        if (items_.size() == k_) {
            if (!(d2 < items_.back().first)) return;
            items_.pop_back();
        }
        auto pos = std::upper_bound(items_.begin(), items_.end(), d2,
                                    [](double v, const auto& it) { return v < it.first; });
        items_.insert(pos, {d2, j});
    }
    double worst() const { return items_.size() == k_ ? items_.back().first : INFINITY; }
    void write(Metric metric, int32_t* index, float* distance) const {
        for (size_t m = 0; m < items_.size(); ++m) {
            index[m] = items_[m].second;
            distance[m] = static_cast<float>(distance_from_sq(metric, items_[m].first));
        }
    }
    void clear() { items_.clear(); }

  private:
    size_t k_;
    std::vector<std::pair<double, int32_t>> items_;
};

Neighbors make_result(size_t queries, size_t k) {
    Neighbors r;
    r.queries = queries;
    r.k = k;
    r.index.assign(queries * k, -1);
    r.distance.assign(queries * k, 0.0f);
    return r;
}

}  // namespace

const char* metric_name(Metric m) {
    return m == Metric::euclidean ? "euclidean" : "cosine";
}

Matrix cosine_rows(ConstMatView x) {
    const size_t d = x.cols();
    Matrix out(x.rows(), d + 1);
    for (size_t i = 0; i < x.rows(); ++i) {
        auto r = x.row(i);
        auto o = out.row(i);
        double s = 0;
        for (float v : r) s += static_cast<double>(v) * v;
        if (s == 0) {
            o[d] = 1.0f;
            continue;
        }
        const double inv = 1.0 / std::sqrt(s);
        for (size_t c = 0; c < d; ++c) o[c] = static_cast<float>(r[c] * inv);
    }
    return out;
}

ExactNeighbors::ExactNeighbors(ConstMatView data, Metric metric)
    : metric_(metric), dims_(data.cols()) {
    require(data.rows() <= static_cast<size_t>(INT32_MAX), "neighbours: {} rows exceed int32",
            data.rows());
    if (metric == Metric::cosine) {
        owned_ = cosine_rows(data);
        data_ = owned_.view();
    } else {
        data_ = data;
    }
    if (data_.cols() > kDirectMaxDims) norms_ = sq_norms(data_);
}

Neighbors ExactNeighbors::search(ConstMatView queries_in, size_t k,
                                 std::span<const int64_t> exclude, int threads) const {
    check_neighbor_request(data_.rows(), dims_, queries_in, k, exclude);
    Matrix prepared;
    if (metric_ == Metric::cosine) prepared = cosine_rows(queries_in);
    const ConstMatView queries = metric_ == Metric::cosine ? prepared.view() : queries_in;
    Neighbors result = make_result(queries.rows(), k);
    const size_t n = data_.rows();
    const std::vector<double> qnorms =
        data_.cols() > kDirectMaxDims ? sq_norms(queries) : std::vector<double>{};
    parallel_for(chunk_count(queries.rows(), kQueryBlock), threads, [&](size_t block) {
        const size_t q0 = block * kQueryBlock;
        const size_t q1 = std::min(queries.rows(), q0 + kQueryBlock);
        const size_t nq = q1 - q0;
        SqDistanceTiles tiles(queries.row_range(q0, q1),
                              qnorms.empty() ? std::span<const double>{}
                                             : std::span<const double>(qnorms).subspan(q0, nq),
                              data_, norms_);
        std::vector<TopK> best(nq, TopK(k));
        MatrixD tile(nq, std::min(n, kDataTile));
        for (size_t t0 = 0; t0 < n; t0 += kDataTile) {
            const size_t t1 = std::min(n, t0 + kDataTile);
            MatrixView<double> out(tile.data(), nq, t1 - t0);
            tiles.tile(t0, t1, out);
            for (size_t i = 0; i < nq; ++i) {
                const int64_t skip = exclude.empty() ? -1 : exclude[q0 + i];
                const double* row = out.row(i).data();
                TopK& b = best[i];
                double worst = b.worst();
                for (size_t j = 0; j < t1 - t0; ++j) {
                    if (row[j] < worst && static_cast<int64_t>(t0 + j) != skip) {
                        b.offer(row[j], static_cast<int32_t>(t0 + j));
                        worst = b.worst();
                    }
                }
            }
        }
        for (size_t i = 0; i < nq; ++i)
            best[i].write(metric_, result.index.data() + (q0 + i) * k,
                          result.distance.data() + (q0 + i) * k);
    });
    return result;
}

Neighbors self_neighbors(const NeighborIndex& index, ConstMatView data, size_t k, int threads) {
    require(data.rows() == index.size(),
            "neighbours: self search needs the indexed data ({} rows), got {} rows", index.size(),
            data.rows());
    std::vector<int64_t> self(data.rows());
    std::iota(self.begin(), self.end(), int64_t{0});
    return index.search(data, k, self, threads);
}

namespace reference {

Neighbors knn(ConstMatView data, ConstMatView queries, size_t k, std::span<const int64_t> exclude,
              Metric metric) {
    check_neighbor_request(data.rows(), data.cols(), queries, k, exclude);
    Neighbors result = make_result(queries.rows(), k);
    std::vector<std::pair<double, int32_t>> row(data.rows());
    const std::vector<double> dn = sq_norms(data), qn = sq_norms(queries);
    for (size_t q = 0; q < queries.rows(); ++q) {
        size_t m = 0;
        for (size_t j = 0; j < data.rows(); ++j) {
            if (!exclude.empty() && exclude[q] == static_cast<int64_t>(j)) continue;
            double s = 0;
            if (metric == Metric::euclidean) {
                for (size_t c = 0; c < data.cols(); ++c) {
                    const double diff = static_cast<double>(queries(q, c)) - data(j, c);
                    s += diff * diff;
                }
            } else if (qn[q] == 0 || dn[j] == 0) {
                s = qn[q] == 0 && dn[j] == 0 ? 0.0 : 2.0;  // the zero-row convention
            } else {
                for (size_t c = 0; c < data.cols(); ++c)
                    s += static_cast<double>(queries(q, c)) * data(j, c);
                s = std::max(0.0, 2.0 - 2.0 * s / std::sqrt(qn[q] * dn[j]));  // ‖x̂ − ŷ‖²
            }
            row[m++] = {s, static_cast<int32_t>(j)};
        }
        std::partial_sort(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(k),
                          row.begin() + static_cast<std::ptrdiff_t>(m));
        for (size_t i = 0; i < k; ++i) {
            result.index[q * k + i] = row[i].second;
            result.distance[q * k + i] = static_cast<float>(distance_from_sq(metric, row[i].first));
        }
    }
    return result;
}

}  // namespace reference
}  // namespace promptlens
