#include "metrics/contingency.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"

namespace promptlens {
namespace {

// Row and column sums (class/cluster sizes).
std::vector<int64_t> row_sums(const Contingency& t) {
    std::vector<int64_t> s(t.clusters, 0);
    for (size_t r = 0; r < t.clusters; ++r)
        for (size_t c = 0; c < t.classes; ++c) s[r] += t.at(r, c);
    return s;
}
std::vector<int64_t> col_sums(const Contingency& t) {
    std::vector<int64_t> s(t.classes, 0);
    for (size_t r = 0; r < t.clusters; ++r)
        for (size_t c = 0; c < t.classes; ++c) s[c] += t.at(r, c);
    return s;
}

void check_table(const Contingency& t, const char* what) {
    require(t.counts.size() == t.clusters * t.classes,
            "{}: contingency table has {} counts for {}x{} (clusters x classes)", what,
            t.counts.size(), t.clusters, t.classes);
    for (int64_t v : t.counts) require(v >= 0, "{}: negative count {} in table", what, v);
}

// sklearn's `entropy` on label sizes (natural log); zero-size labels do not exist there.
double entropy(const std::vector<int64_t>& sizes) {
    std::vector<double> p;
    for (int64_t s : sizes)
        if (s > 0) p.push_back(static_cast<double>(s));
    if (p.size() <= 1) return 0.0;
    double sum = 0;
    for (double v : p) sum += v;
    double h = 0;
    for (double v : p) h += (v / sum) * (std::log(v) - std::log(sum));
    return -h;
}

size_t nonzero(const std::vector<int64_t>& v) {
    return static_cast<size_t>(std::count_if(v.begin(), v.end(), [](int64_t x) { return x > 0; }));
}

}  // namespace

int64_t Contingency::total() const {
    int64_t s = 0;
    for (int64_t v : counts) s += v;
    return s;
}

Contingency contingency(std::span<const int32_t> clusters, size_t n_clusters,
                        std::span<const int32_t> classes, size_t n_classes) {
    require(clusters.size() == classes.size(),
            "contingency: {} cluster labels but {} class labels; need one of each per row",
            clusters.size(), classes.size());
    Contingency t;
    t.clusters = n_clusters;
    t.classes = n_classes;
    t.counts.assign(n_clusters * n_classes, 0);
    for (size_t i = 0; i < clusters.size(); ++i) {
        const int32_t k = clusters[i], c = classes[i];
        require(k >= 0 && static_cast<size_t>(k) < n_clusters,
                "contingency: row {} has cluster {}, outside [0, {})", i, k, n_clusters);
        require(c >= 0 && static_cast<size_t>(c) < n_classes,
                "contingency: row {} has class {}, outside [0, {})", i, c, n_classes);
        ++t.counts[static_cast<size_t>(k) * n_classes + static_cast<size_t>(c)];
    }
    return t;
}

MatrixD purity_table(const Contingency& t) {
    check_table(t, "purity_table");
    MatrixD p(t.clusters, t.classes, 0.0);
    const auto rows = row_sums(t);
    for (size_t r = 0; r < t.clusters; ++r) {
        if (rows[r] == 0) continue;
        for (size_t c = 0; c < t.classes; ++c)
            p(r, c) = static_cast<double>(t.at(r, c)) / static_cast<double>(rows[r]);
    }
    return p;
}

double majority_accuracy(const Contingency& t) {
    check_table(t, "majority_accuracy");
    const int64_t n = t.total();
    require(n > 0, "majority_accuracy: the table is empty (0 rows)");
    int64_t hits = 0;
    for (size_t r = 0; r < t.clusters; ++r) {
        int64_t best = 0;
        for (size_t c = 0; c < t.classes; ++c) best = std::max(best, t.at(r, c));
        hits += best;
    }
    return static_cast<double>(hits) / static_cast<double>(n);
}

double adjusted_rand_index(const Contingency& t) {
    check_table(t, "adjusted_rand_index");
    // sklearn's pair_confusion_matrix, in 128-bit integers: tp·tn overflows int64 from N ≈ 55k.
    // Its table is classes×clusters (ours transposed): C01 weights each count by its cluster's
    // size, C10 by its class's size.
    using I = __int128_t;
    const I n = t.total();
    I sum_sq = 0, by_cluster = 0, by_class = 0;
    const auto rows = row_sums(t), cols = col_sums(t);
    for (size_t r = 0; r < t.clusters; ++r) {
        for (size_t c = 0; c < t.classes; ++c) {
            const I v = t.at(r, c);
            sum_sq += v * v;
            by_cluster += v * rows[r];
            by_class += v * cols[c];
        }
    }
    const I tp = sum_sq - n;
    const I fp = by_cluster - sum_sq;  // C01
    const I fn = by_class - sum_sq;    // C10
    const I tn = n * n - fp - fn - sum_sq;
    if (fn == 0 && fp == 0) return 1.0;
    const I num = 2 * (tp * tn - fn * fp);
    const I den = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn);
    return static_cast<double>(static_cast<long double>(num) / static_cast<long double>(den));
}

double normalized_mutual_info(const Contingency& t) {
    check_table(t, "normalized_mutual_info");
    const auto rows = row_sums(t), cols = col_sums(t);
    const size_t n_clusters = nonzero(rows), n_classes = nonzero(cols);
    if ((n_classes == 1 && n_clusters == 1) || (n_classes == 0 && n_clusters == 0)) return 1.0;
    // mutual_info_score, term by term as sklearn writes it.
    if (n_clusters == 1 || n_classes == 1) return 0.0;
    const double total = static_cast<double>(t.total());
    const double log_total = std::log(total);
    double mi = 0;
    for (size_t r = 0; r < t.clusters; ++r) {
        for (size_t c = 0; c < t.classes; ++c) {
            const int64_t v = t.at(r, c);
            if (v == 0) continue;
            const double p = static_cast<double>(v) / total;
            const double outer = static_cast<double>(rows[r]) * static_cast<double>(cols[c]);
            const double log_outer = -std::log(outer) + log_total + log_total;
            double term = p * (std::log(static_cast<double>(v)) - log_total) + p * log_outer;
            if (std::fabs(term) < std::numeric_limits<double>::epsilon()) term = 0.0;
            mi += term;
        }
    }
    mi = std::max(mi, 0.0);
    if (mi == 0) return 0.0;
    const double normalizer = (entropy(cols) + entropy(rows)) / 2.0;
    return mi / normalizer;
}

}  // namespace promptlens
