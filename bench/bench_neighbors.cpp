// Self k-NN of every row (what t-SNE and UMAP need): the exact blocked-GEMM index against
// NN-descent, recall checked before anything is timed.
//
//   promptlens_bench_neighbors X.npy [--k 15,91] [--metric euclidean|cosine] [--threads 2]
//                              [--rows N] [--cache DIR] [--trees T] [--leaf L] [--candidates C]
//                              [--iterations I] [--no-exact]
//
// The exact lists at the largest k are the oracle (their first k entries are the exact lists at
// every smaller k, same tie rule); with --cache DIR they are read from / written to
// DIR/exact_<metric>_<N>_k<K>.npy so that bench/pynndescent_peer.py scores its peer on the same
// oracle and the slow Fashion-MNIST brute force runs once. Recall = mean over rows of
// |approximate ∩ exact| / k. Prints one JSON object.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/npy.hpp"
#include "metrics/distances.hpp"
#include "metrics/neighbor_index.hpp"
#include "timing.hpp"

using namespace promptlens;
using promptlens::bench::best_of;

namespace {

// Mean over rows of |approx_i ∩ exact_i[:k]| / k. exact is N×ke (ke ≥ k), approx N×k.
double recall(std::span<const int32_t> approx, size_t k, std::span<const int32_t> exact,
              size_t ke) {
    const size_t n = approx.size() / k;
    size_t hits = 0;
    std::vector<int32_t> a, e;
    for (size_t i = 0; i < n; ++i) {
        a.assign(approx.begin() + i * k, approx.begin() + (i + 1) * k);
        e.assign(exact.begin() + i * ke, exact.begin() + i * ke + k);
        std::sort(a.begin(), a.end());
        std::sort(e.begin(), e.end());
        std::vector<int32_t> both;
        std::set_intersection(a.begin(), a.end(), e.begin(), e.end(), std::back_inserter(both));
        hits += both.size();
    }
    return static_cast<double>(hits) / static_cast<double>(n * k);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Times exact and NN-descent self k-NN, with recall against the exact lists"};
    std::string features, metric_name_arg = "euclidean", cache;
    std::vector<size_t> ks = {15, 91};
    int threads = 2;
    size_t rows = 0;
    bool no_exact = false;
    size_t sample = 0;
    NNDescentOptions nd;
    app.add_option("features", features)->required();
    app.add_option("--k", ks)->delimiter(',');
    app.add_option("--metric", metric_name_arg);
    app.add_option("--threads", threads);
    app.add_option("--rows", rows, "first N rows only (0 = all)");
    app.add_option("--cache", cache, "directory for the exact lists");
    app.add_option("--trees", nd.n_trees);
    app.add_option("--leaf", nd.leaf_size);
    app.add_option("--candidates", nd.max_candidates);
    app.add_option("--iterations", nd.max_iterations);
    app.add_option("--delta", nd.delta);
    app.add_option("--sample", sample,
                   "exact lists for this many seeded sample rows only; recall on those");
    app.add_flag("--no-exact", no_exact, "skip the exact index (needs --cache with its lists)");
    CLI11_PARSE(app, argc, argv);
    try {
        const Matrix all = read_npy_matrix(features);
        const size_t n = rows > 0 ? std::min(rows, all.rows()) : all.rows();
        const ConstMatView x = all.row_range(0, n);
        const Metric metric = metric_name_arg == "cosine" ? Metric::cosine : Metric::euclidean;
        require(metric_name_arg == "cosine" || metric_name_arg == "euclidean",
                "--metric must be euclidean or cosine, got '{}'", metric_name_arg);
        const size_t kmax = *std::max_element(ks.begin(), ks.end());

        nlohmann::ordered_json out;
        out["rows"] = n;
        out["cols"] = x.cols();
        out["metric"] = metric_name_arg;
        out["threads"] = threads;

        // The oracle.
        std::vector<int32_t> exact;
        const std::string cache_file = cache.empty() ? std::string()
                                                     : cache + "/exact_" + metric_name_arg + "_" +
                                                           std::to_string(n) + "_k" +
                                                           std::to_string(kmax) + ".npy";
        if (!cache_file.empty() && std::filesystem::exists(cache_file)) {
            for (int64_t v : read_npy_ints(cache_file)) exact.push_back(static_cast<int32_t>(v));
            require(exact.size() == n * kmax, "{} holds {} entries, expected {}", cache_file,
                    exact.size(), n * kmax);
            out["exact_cached"] = cache_file;
        }
        std::vector<size_t> rows_checked;  // empty: all rows
        if (sample > 0 && sample < n) {
            rows_checked = sample_rows(n, sample, 1);
            Matrix q(sample, x.cols());
            std::vector<int64_t> self(sample);
            for (size_t i = 0; i < sample; ++i) {
                std::copy(x.row(rows_checked[i]).begin(), x.row(rows_checked[i]).end(),
                          q.row(i).begin());
                self[i] = static_cast<int64_t>(rows_checked[i]);
            }
            Neighbors nb;
            out["exact_sample_rows"] = sample;
            out["exact_sample_seconds"] =
                best_of(1, [&] { nb = ExactNeighbors(x, metric).search(q, kmax, self, threads); });
            exact = nb.index;
        } else if (!no_exact || exact.empty()) {
            Neighbors nb;
            out["exact_seconds"] = best_of(1, [&] {
                ExactNeighbors index(x, metric);
                nb = self_neighbors(index, x, kmax, threads);
            });
            exact = nb.index;
            if (!cache_file.empty()) write_npy(cache_file, std::span<const int32_t>(exact));
        }

        for (size_t k : ks) {
            NeighborIndexOptions o;
            o.method = NeighborMethod::approximate;
            o.metric = metric;
            o.max_k = k;
            o.threads = threads;
            o.nn_descent = nd;
            std::unique_ptr<NeighborIndex> index;
            Neighbors nb;
            const std::clock_t c0 = std::clock();
            const double t = best_of(1, [&] {
                index = make_neighbor_index(x, o);
                nb = self_neighbors(*index, x, k, threads);
            });
            const auto& det = dynamic_cast<const NNDescentIndex&>(*index).details();
            auto& s = out["nn_descent"]["k" + std::to_string(k)];
            s["seconds"] = t;
            // All threads' CPU time: on a loaded machine, the stabler measure of work.
            s["cpu_seconds"] = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
            if (rows_checked.empty()) {
                s["recall"] = recall(nb.index, k, exact, kmax);
            } else {
                std::vector<int32_t> picked;
                for (size_t r : rows_checked)
                    picked.insert(picked.end(), nb.of(r).begin(), nb.of(r).end());
                s["recall"] = recall(picked, k, exact, kmax);
            }
            s["seconds_forest"] = det.seconds_forest;
            s["seconds_descent"] = det.seconds_descent;
            s["trees"] = det.n_trees;
            s["leaf_size"] = det.leaf_size;
            s["max_candidates"] = det.max_candidates;
            s["iterations"] = det.iterations;
            s["converged"] = det.converged;
            s["updates"] = det.updates;
        }
        std::puts(out.dump(1).c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "promptlens_bench_neighbors: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
