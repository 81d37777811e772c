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
    std::string features, labels, csv, json;
    bool scale = false;
    KMeansFlags kmeans;
    uint64_t seed = 0;
    int threads = 0;
};

void run_cluster(const ClusterOptions& o) {
    check_output_paths({o.csv, o.json, o.kmeans.assignments});
    Matrix x = load_features(o.features, o.scale, o.threads);
    Labels labels = load_labels(o.labels, x.rows(), o.features);
    KMeansResult r = run_kmeans(x, o.kmeans, o.seed, o.threads);
    ClusterSummary s = summarize_clusters(labels, r.labels, o.kmeans.clusters);
    fmt::print("{}\n", describe_kmeans(r, x, o.scale));
    fmt::print("{}", format_text(s));
    if (!o.csv.empty()) save_text(o.csv, format_csv(s));
    if (!o.json.empty()) {
        auto j = to_json(s);
        j["features"] = o.features;
        j["scaled"] = o.scale;
        j["kmeans"] = {{"clusters", o.kmeans.clusters},
                       {"n_init", o.kmeans.n_init},
                       {"seed", o.seed},
                       {"inertia", r.inertia},
                       {"iterations", r.iterations},
                       {"converged", r.converged}};
        save_text(o.json, j.dump(2) + "\n");
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
    sub->add_flag("--scale", o->scale, "StandardScaler first (zero mean, unit variance columns)");
    add_kmeans_options(sub, o->kmeans);
    sub->add_option("--csv", o->csv, "Also write the table as CSV");
    sub->add_option("--json", o->json, "Also write the table and scores as JSON");
    add_seed_option(sub, o->seed);
    add_threads_option(sub, o->threads);
    sub->callback([o] { run_cluster(*o); });
}

}  // namespace promptlens::cli
