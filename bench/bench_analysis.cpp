// promptlens side of bench/bench_analysis.sh: times StandardScaler, PCA and KMeans on one
// dataset, the same calls bench/sklearn_analysis.py makes, and prints one JSON object.
//
//   promptlens_bench_analysis X.npy LABELS.txt [--repeats 3] [--clusters 2,8] [--threads T]
//                             [--save-dir DIR]
//
// Times are the best of --repeats runs on the loaded matrix (loading is not timed). Results are
// checked before they are reported: finite coordinates, inertia equal to a recomputation.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cluster/kmeans.hpp"
#include "core/error.hpp"
#include "core/labels.hpp"
#include "core/npy.hpp"
#include "reduce/pca.hpp"
#include "reduce/scaler.hpp"
#include "timing.hpp"

using namespace promptlens;
using promptlens::bench::best_of;

namespace {

double recomputed_inertia(ConstMatView x, const KMeansResult& r) {
    double s = 0;
    for (size_t i = 0; i < x.rows(); ++i) {
        auto c = r.centers.row(static_cast<size_t>(r.labels[i]));
        auto xi = x.row(i);
        for (size_t j = 0; j < x.cols(); ++j) {
            double d = double(xi[j]) - c[j];
            s += d * d;
        }
    }
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Times promptlens's scaler, PCA and KMeans (see bench/bench_analysis.sh)"};
    std::string features, labels_path, save_dir;
    int repeats = 3, kmeans_repeats = 1, threads = 1;
    std::vector<size_t> clusters = {2, 8};
    app.add_option("features", features)->required();
    app.add_option("labels", labels_path)->required();
    app.add_option("--repeats", repeats);
    app.add_option("--kmeans-repeats", kmeans_repeats);
    app.add_option("--clusters", clusters)->delimiter(',');
    app.add_option("--threads", threads);
    app.add_option("--save-dir", save_dir);
    CLI11_PARSE(app, argc, argv);
    try {
        Matrix x = read_npy_matrix(features);
        Labels labels = read_labels(labels_path);
        check_label_count(labels, x.rows(), labels_path, features);
        nlohmann::ordered_json out;
        out["peer"] = std::string("promptlens ") + PROMPTLENS_VERSION;
        out["threads"] = threads;
        out["rows"] = x.rows();
        out["cols"] = x.cols();
        auto& steps = out["steps"];

        steps["scaler"]["seconds"] = best_of(repeats, [&] {
            auto s = StandardScaler::fit(x, threads);
            Matrix scaled = s.transform(x, threads);
            require(std::isfinite(scaled(0, 0)), "scaler produced a non-finite value");
        });
        for (size_t k : {size_t{2}, size_t{50}}) {
            PcaOptions o;
            o.components = k;
            o.threads = threads;
            Matrix coords;
            PcaModel model;
            steps["pca" + std::to_string(k)]["seconds"] =
                best_of(repeats, [&] { coords = pca_fit_transform(x, o, &model); });
            steps["pca" + std::to_string(k)]["solver"] =
                model.solver_used == PcaSolver::exact ? "exact" : "randomized";
            for (float v : coords.values()) require(std::isfinite(v), "PCA produced non-finite");
            if (!save_dir.empty() && k == 2) write_npy(save_dir + "/promptlens_pca2.npy", coords);
        }
        for (size_t k : clusters) {
            KMeansOptions o;
            o.clusters = k;
            o.n_init = 10;
            o.threads = threads;
            KMeansResult r;
            double t = best_of(kmeans_repeats, [&] { r = kmeans_fit(x, o); });
            double check = recomputed_inertia(x, r);
            require(std::fabs(check - r.inertia) <= 1e-4 * check,
                    "KMeans reported inertia {} but its labels and centres give {}", r.inertia,
                    check);
            auto& s = steps["kmeans" + std::to_string(k)];
            s["seconds"] = t;
            s["inertia"] = check;  // float64, as the peer script recomputes its own
            s["iterations"] = r.iterations;
        }
        std::puts(out.dump(1).c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "promptlens_bench_analysis: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
