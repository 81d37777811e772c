#include "embed/umap.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "embed/umap_curve.hpp"
#include "embed/umap_spectral.hpp"
#include "metrics/distances.hpp"
#include "metrics/neighbor_index.hpp"
#include "reduce/pca.hpp"

namespace promptlens {
namespace {

constexpr uint64_t kInitStream = 0x1a17;
constexpr size_t kExtra = 8;  // extra k-NN candidates re-ranked in double

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void require_finite_rows(ConstMatView x, const char* what) {
    for (size_t i = 0; i < x.rows(); ++i)
        for (size_t j = 0; j < x.cols(); ++j)
            require(std::isfinite(x(i, j)),
                    "UMAP: {} row {} column {} is {}; UMAP needs finite "
                    "values",
                    what, i, j, x(i, j));
}

// Rows scaled to unit length (zero rows stay zero): Euclidean distance e there gives the cosine
// distance e²/2.
Matrix unit_rows(ConstMatView x) {
    Matrix u = to_matrix(x);
    for (size_t i = 0; i < u.rows(); ++i) {
        double s = 0;
        for (float v : u.row(i)) s += double(v) * v;
        if (s > 0)
            for (float& v : u.row(i)) v = static_cast<float>(v / std::sqrt(s));
    }
    return u;
}

// simplicial_set_embedding's start: init scaled to max |x| = 10 plus N(0, 1e-4) noise (spectral
// and pca), then every column mapped to [0, 10].
void finish_init(Matrix& e, bool add_noise, Rng& rng) {
    if (add_noise) {
        float mx = 0;
        for (float v : e.values()) mx = std::max(mx, std::fabs(v));
        const float expansion = mx > 0 ? 10.0f / mx : 1.0f;
        for (float& v : e.values()) v = v * expansion + static_cast<float>(0.0001 * rng.normal());
    }
    for (size_t t = 0; t < e.cols(); ++t) {
        float lo = std::numeric_limits<float>::infinity(), hi = -lo;
        for (size_t i = 0; i < e.rows(); ++i)
            lo = std::min(lo, e(i, t)), hi = std::max(hi, e(i, t));
        const float range = hi > lo ? hi - lo : 1.0f;  // umap-learn divides by 0 here (NaN)
        for (size_t i = 0; i < e.rows(); ++i) e(i, t) = 10.0f * (e(i, t) - lo) / range;
    }
}

void run_sgd(UmapSgd& sgd, size_t epochs, std::vector<std::pair<size_t, double>>* trace,
             const UmapProgress& progress) {
    // The objective costs about one epoch's worth of work: computed 20 times per run.
    const size_t every = std::max<size_t>(1, epochs / 20);
    auto record = [&](size_t done) {
        const double obj = sgd.objective();
        if (trace) trace->emplace_back(done, obj);
        return obj;
    };
    double obj = (trace || progress) ? record(0) : 0;
    if (progress) progress("sgd", 0, epochs, obj);
    while (!sgd.done()) {
        sgd.run_epoch();
        const size_t done = sgd.epoch();
        const bool report = done % every == 0 || done == epochs;
        if (report && (trace || progress)) obj = record(done);
        if (progress) progress("sgd", done, epochs, report ? obj : std::nan(""));
    }
}

}  // namespace

uint64_t umap_fingerprint(ConstMatView x) {
    uint64_t h = 0xcbf29ce484222325ULL ^ (x.rows() * 0x9E3779B97F4A7C15ULL) ^ x.cols();
    for (size_t i = 0; i < x.rows(); ++i)
        for (float v : x.row(i)) {
            uint32_t bits;
            std::memcpy(&bits, &v, sizeof bits);
            h = (h ^ bits) * 0x100000001b3ULL;
        }
    return h;
}

Neighbors umap_neighbors(ConstMatView data, ConstMatView queries, size_t k, UmapMetric metric,
                         bool self_first, int threads) {
    // Euclidean: centred copies (the GEMM distance path loses precision to a common offset).
    Matrix d, q;
    if (metric == UmapMetric::cosine) {
        d = unit_rows(data);
        if (!self_first) q = unit_rows(queries);
    } else {
        d = centered_rows(data);
        if (!self_first) {  // the same shift as the data's
            std::vector<double> mean(data.cols(), 0);
            for (size_t i = 0; i < data.rows(); ++i)
                for (size_t j = 0; j < data.cols(); ++j) mean[j] += data(i, j);
            for (double& m : mean) m /= static_cast<double>(data.rows());
            q = to_matrix(queries);
            for (size_t i = 0; i < q.rows(); ++i)
                for (size_t j = 0; j < q.cols(); ++j)
                    q(i, j) = static_cast<float>(q(i, j) - mean[j]);
        }
    }
    // The float32 GEMM distances of the index are off by up to ~1e-5 relative (|x|² ≫ d²), which
    // reorders near ties: take kExtra more candidates, recompute their distances in double and
    // keep the k nearest by (distance, index) — the exact lists umap-learn's float64 path gives.
    // Candidates from brute force up to 10,000 rows, NN-descent above (make_neighbor_index's
    // automatic choice; umap-learn switches to NN-descent above 4,096 rows).
    ConstMatView qv = self_first ? d.view() : q.view();
    const size_t others = self_first ? k - 1 : k;
    const size_t avail = self_first ? d.rows() - 1 : d.rows();
    const size_t kc = std::min(avail, others + kExtra);
    NeighborIndexOptions io;
    io.max_k = kc;
    io.threads = threads;
    const auto index = make_neighbor_index(d.view(), io);
    const Neighbors cand =
        self_first ? self_neighbors(*index, d, kc, threads) : index->search(qv, kc, {}, threads);
    // Exact distances from the raw rows (Euclidean) or the unit rows (cosine: 1 − cos = e²/2).
    const bool cosine = metric == UmapMetric::cosine;
    ConstMatView rd = cosine ? d.view() : data, rq = cosine ? qv : queries;
    Neighbors nn;
    nn.queries = cand.queries;
    nn.k = k;
    nn.index.resize(nn.queries * k);
    nn.distance.resize(nn.queries * k);
    parallel_for(chunk_count(nn.queries, 512), threads, [&](size_t c) {
        std::vector<std::pair<double, int32_t>> exact(kc);
        const size_t end = std::min(nn.queries, (c + 1) * 512);
        for (size_t i = c * 512; i < end; ++i) {
            auto qi = rq.row(i);
            for (size_t t = 0; t < kc; ++t) {
                const int32_t j = cand.of(i)[t];
                auto xj = rd.row(static_cast<size_t>(j));
                const double s = exact_sq_distance(qi.data(), xj.data(), qi.size());
                exact[t] = {cosine ? s / 2 : std::sqrt(s), j};
            }
            std::sort(exact.begin(), exact.end());
            size_t o = i * k;
            if (self_first) {
                nn.index[o] = static_cast<int32_t>(i);
                nn.distance[o++] = 0;
            }
            for (size_t t = 0; t < others; ++t, ++o) {
                nn.index[o] = exact[t].second;
                nn.distance[o] = static_cast<float>(exact[t].first);
            }
        }
    });
    return nn;
}

UmapModel umap_fit(ConstMatView x, const UmapOptions& o, std::span<const int32_t> labels,
                   const UmapProgress& progress) {
    const size_t n = x.rows();
    require(n >= 1 && x.cols() >= 1, "UMAP: empty input ({} x {})", n, x.cols());
    require(o.n_neighbors >= 2, "UMAP: n_neighbors must be at least 2 (got {})", o.n_neighbors);
    require(o.components >= 1, "UMAP: components must be at least 1 (got {})", o.components);
    require(o.target_weight >= 0 && o.target_weight <= 1,
            "UMAP: target_weight must be in [0, 1] (got {})", o.target_weight);
    require(labels.empty() || labels.size() == n,
            "UMAP: {} labels for {} rows; need one label per row", labels.size(), n);
    require_finite_rows(x, "input");
    const int threads = resolve_threads(o.threads);

    UmapModel m;
    m.options = o;
    m.supervised = !labels.empty();
    m.train_rows = n;
    m.train_cols = x.cols();
    m.train_fingerprint = umap_fingerprint(x);
    const UmapCurve curve = fit_umap_curve(o.spread, o.min_dist);
    m.a = curve.a;
    m.b = curve.b;
    if (n == 1) {  // umap-learn: a single row embeds at the origin
        m.embedding = Matrix(1, o.components);
        m.notes.push_back("a single row: embedded at the origin");
        return m;
    }
    m.n_neighbors = o.n_neighbors;
    if (n <= o.n_neighbors) {
        m.n_neighbors = n - 1;
        m.notes.push_back(
            fmt::format("n_neighbors {} is not below the {} rows; using {} "
                        "(umap-learn does the same)",
                        o.n_neighbors, n, m.n_neighbors));
    }
    const bool default_epochs = o.epochs == 0;
    const size_t auto_epochs = n <= 10000 ? 500 : 200;
    m.epochs = default_epochs ? auto_epochs : o.epochs;

    auto t = std::chrono::steady_clock::now();
    if (progress) progress("neighbors", 0, 1, std::nan(""));
    const Neighbors knn = umap_neighbors(x, x, m.n_neighbors, o.metric, true, threads);
    m.seconds_neighbors = seconds_since(t);

    t = std::chrono::steady_clock::now();
    if (progress) progress("graph", 0, 1, std::nan(""));
    m.graph = fuzzy_simplicial_set(knn, threads);
    if (m.supervised)
        m.graph = categorical_intersection(m.graph, labels, categorical_far_dist(o.target_weight));
    // umap-learn drops edges below max/epochs (max/default when epochs ≤ 10).
    const size_t prune_epochs = m.epochs > 10 ? m.epochs : auto_epochs;
    const SparseGraph pruned =
        prune_graph(m.graph, m.graph.max_value() / static_cast<float>(prune_epochs));
    m.seconds_graph = seconds_since(t);

    t = std::chrono::steady_clock::now();
    if (progress) progress("init", 0, 1, std::nan(""));
    Rng rng(o.seed, kInitStream);
    const size_t dim = o.components;
    switch (o.init) {
        case UmapInit::random:
            m.embedding = Matrix(n, dim);
            for (float& v : m.embedding.values()) v = static_cast<float>(20 * rng.uniform() - 10);
            finish_init(m.embedding, false, rng);
            break;
        case UmapInit::pca: {
            PcaOptions p;
            p.components = std::min({dim, n, x.cols()});
            p.seed = o.seed;
            p.threads = threads;
            Matrix y = pca_fit_transform(x, p);
            m.embedding = Matrix(n, dim);
            for (size_t i = 0; i < n; ++i)
                for (size_t j = 0; j < y.cols(); ++j) m.embedding(i, j) = y(i, j);
            if (y.cols() < dim) m.notes.push_back("pca init: fewer components than requested");
            finish_init(m.embedding, true, rng);
            break;
        }
        case UmapInit::spectral: {
            SpectralInit s = umap_spectral_init(pruned, dim, x, o.seed, threads);
            m.graph_components = s.components;
            m.spectral_converged = s.converged;
            if (!s.note.empty()) m.notes.push_back(s.note);
            m.embedding = std::move(s.embedding);
            finish_init(m.embedding, true, rng);
            break;
        }
    }
    m.seconds_init = seconds_since(t);

    t = std::chrono::steady_clock::now();
    UmapLayoutOptions l;
    l.epochs = m.epochs;
    l.a = m.a;
    l.b = m.b;
    l.gamma = o.repulsion_strength;
    l.learning_rate = o.learning_rate;
    l.negative_sample_rate = o.negative_sample_rate;
    l.move_other = true;
    l.schedule = o.schedule;
    l.seed = o.seed;
    l.threads = threads;
    UmapSgd sgd(m.embedding, m.embedding, pruned, l);
    run_sgd(sgd, m.epochs, &m.objective, progress);
    m.seconds_sgd = seconds_since(t);
    return m;
}

Matrix umap_transform(const UmapModel& model, ConstMatView train, ConstMatView new_rows,
                      const UmapProgress& progress) {
    require(model.train_rows >= 2,
            "UMAP transform: the model was fitted on {} row(s); transform needs at least 2",
            model.train_rows);
    require(train.rows() == model.train_rows && train.cols() == model.train_cols &&
                umap_fingerprint(train) == model.train_fingerprint,
            "UMAP transform: the training data given ({} x {}) is not what the model was fitted "
            "on ({} x {})",
            train.rows(), train.cols(), model.train_rows, model.train_cols);
    require(new_rows.cols() == model.train_cols,
            "UMAP transform: new rows have {} columns, the model was fitted on {}", new_rows.cols(),
            model.train_cols);
    require_finite_rows(new_rows, "new");
    const size_t q = new_rows.rows(), dim = model.embedding.cols();
    if (q == 0) return Matrix(0, dim);
    const UmapOptions& o = model.options;
    const int threads = resolve_threads(o.threads);
    const size_t k = model.n_neighbors;

    if (progress) progress("neighbors", 0, 1, std::nan(""));
    const Neighbors knn = umap_neighbors(train, new_rows, k, o.metric, false, threads);
    const double local_connectivity = 0.0;  // umap-learn: max(0, local_connectivity − 1)
    const SmoothKnn s = smooth_knn_dist(knn, local_connectivity, threads);
    const SparseGraph g = membership_strengths(knn, s, train.rows(), true);

    // init_graph_transform: a membership of exactly 1 (first by column) places the row on that
    // training row; otherwise the membership-weighted mean. Rows without any membership (all
    // underflowed) start on their nearest training row (umap-learn: NaN).
    Matrix e(q, dim);
    for (size_t i = 0; i < q; ++i) {
        const int64_t b = g.indptr[i], end = g.indptr[i + 1];
        int64_t one = -1;
        double sum = 0;
        for (int64_t p = b; p < end; ++p) {
            sum += g.values[p];
            if (one < 0 && g.values[p] == 1.0f) one = p;
        }
        if (one >= 0 || b == end) {
            const size_t src =
                one >= 0 ? static_cast<size_t>(g.indices[one]) : static_cast<size_t>(knn.of(i)[0]);
            std::copy_n(model.embedding.row(src).data(), dim, e.row(i).data());
            continue;
        }
        for (size_t t = 0; t < dim; ++t) {
            float acc = 0;
            for (int64_t p = b; p < end; ++p)
                acc += static_cast<float>(g.values[p] / sum) * model.embedding(g.indices[p], t);
            e(i, t) = acc;
        }
    }
    const size_t epochs =
        o.epochs == 0 ? (q <= 10000 ? 100 : 30) : std::max<size_t>(1, model.epochs / 3);
    const SparseGraph pruned = prune_graph(g, g.max_value() / static_cast<float>(epochs));
    UmapLayoutOptions l;
    l.epochs = epochs;
    l.a = model.a;
    l.b = model.b;
    l.gamma = o.repulsion_strength;
    l.learning_rate = o.learning_rate / 4;
    l.negative_sample_rate = o.negative_sample_rate;
    l.move_other = false;
    l.schedule = o.schedule;
    l.seed = o.seed ^ 0x7a45f0a3ULL;
    l.threads = threads;
    UmapSgd sgd(e, model.embedding, pruned, l);
    run_sgd(sgd, epochs, nullptr, progress);
    return e;
}

}  // namespace promptlens
