// `promptlens cluster`: KMeans on the features, then the seed notebook's purity table (cluster ×
// label, normalised per cluster) and the scores that say how well the clusters recover the labels.
#include <fmt/format.h>

#include "apps/commands.hpp"
#include "apps/common.hpp"
#include "apps/summary.hpp"
#include "cluster/kmeans.hpp"
#include "core/progress.hpp"

namespace promptlens::cli {
namespace {

struct ClusterOptions {
    std::string features, labels, csv, json, assignments;
    bool scale = false;
    size_t clusters = 2, n_init = 10, max_iter = 300;
    double tol = 1e-4;
    std::string algorithm = "lloyd";
    uint64_t seed = 0;
    int threads = 0;
};

void run_cluster(const ClusterOptions& o) {
    Matrix x = load_features(o.features, o.scale, o.threads);
    Labels labels = load_labels(o.labels, x.rows(), o.features);
    KMeansOptions k;
    k.clusters = o.clusters;
    k.n_init = o.n_init;
    k.max_iter = o.max_iter;
    k.tol = o.tol;
    k.algorithm = o.algorithm == "elkan" ? KMeansAlgorithm::elkan : KMeansAlgorithm::lloyd;
    k.seed = o.seed;
    k.threads = o.threads;
    Progress progress(fmt::format("KMeans k={}, {} restarts", o.clusters, o.n_init), k.max_iter,
                      "steps");
    k.progress = progress.callback();
    KMeansResult r = kmeans_fit(x, k);
    progress.finish();
    ClusterSummary s = summarize_clusters(labels, r.labels, o.clusters);
    fmt::print("KMeans k={} on {} x {}{}: inertia {:.7g}, {} iterations{}\n", o.clusters, x.rows(),
               x.cols(), o.scale ? " (scaled)" : "", r.inertia, r.iterations,
               r.converged ? "" : " (did not converge: raise --max-iter)");
    fmt::print("{}", format_text(s));
    if (!o.csv.empty()) save_text(o.csv, format_csv(s));
    if (!o.json.empty()) {
        auto j = to_json(s);
        j["features"] = o.features;
        j["scaled"] = o.scale;
        j["kmeans"] = {
            {"clusters", o.clusters}, {"n_init", o.n_init},         {"seed", o.seed},
            {"inertia", r.inertia},   {"iterations", r.iterations}, {"converged", r.converged}};
        save_text(o.json, j.dump(2) + "\n");
    }
    if (!o.assignments.empty()) {
        std::string text;
        for (int32_t c : r.labels) text += fmt::format("{}\n", c);
        save_text(o.assignments, text);
    }
}

}  // namespace

void setup_cluster(CLI::App& app) {
    auto o = std::make_shared<ClusterOptions>();
    auto* sub = app.add_subcommand(
        "cluster",
        "KMeans, then the purity table (cluster x label, normalised per cluster), "
        "majority and matched accuracy, ARI and NMI");
    sub->add_option("--features", o->features, "N x d features (.npy, .csv or .tsv)")->required();
    sub->add_option("--labels", o->labels, "Text file, one label per row")->required();
    sub->add_option("--clusters", o->clusters, "Number of clusters K")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    sub->add_flag("--scale", o->scale, "StandardScaler first (zero mean, unit variance columns)");
    sub->add_option("--n-init", o->n_init, "Restarts (k-means++ seeds); best inertia wins")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    sub->add_option("--max-iter", o->max_iter, "Iterations per restart")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    sub->add_option("--tol", o->tol, "Convergence: centre shift relative to the data variance")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    sub->add_option("--algorithm", o->algorithm, "lloyd or elkan (same result)")
        ->capture_default_str()
        ->check(CLI::IsMember({"lloyd", "elkan"}));
    sub->add_option("--csv", o->csv, "Also write the table as CSV");
    sub->add_option("--json", o->json, "Also write the table and scores as JSON");
    sub->add_option("--assignments", o->assignments, "Also write each row's cluster, one a line");
    add_seed_option(sub, o->seed);
    add_threads_option(sub, o->threads);
    sub->callback([o] { run_cluster(*o); });
}

}  // namespace promptlens::cli
