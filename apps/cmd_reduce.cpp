// `promptlens reduce`: features → a low-dimensional view (PCA coordinates, or KMeans distances
// to each centre as the seed notebook plots them), written as an N × m float32 .npy.
#include <fmt/format.h>

#include "apps/commands.hpp"
#include "apps/common.hpp"
#include "apps/reduce_tsne.hpp"
#include "apps/reduce_umap.hpp"
#include "cluster/kmeans.hpp"
#include "core/error.hpp"
#include "core/npy.hpp"
#include "core/progress.hpp"
#include "reduce/pca.hpp"

namespace promptlens::cli {
namespace {

struct ReduceOptions {
    std::string method = "pca";
    std::string features, out, solver = "auto";
    bool scale = false;
    size_t components = 2;
    KMeansFlags kmeans;
    TsneFlags tsne;
    UmapFlags umap;
    uint64_t seed = 0;
    int threads = 0;
};

void run_reduce(const ReduceOptions& o) {
    check_output_paths({o.out, o.kmeans.assignments});
    Matrix x = load_features(o.features, o.scale, o.threads);
    Matrix y;
    if (o.method == "pca") {
        PcaOptions p;
        p.components = o.components;
        p.solver = o.solver == "exact"        ? PcaSolver::exact
                   : o.solver == "randomized" ? PcaSolver::randomized
                                              : PcaSolver::automatic;
        p.seed = o.seed;
        p.threads = o.threads;
        PcaModel model;
        y = pca_fit_transform(x, p, &model);
        double total = 0;
        std::string ratios;
        for (double r : model.explained_variance_ratio) {
            ratios += fmt::format(" {:.4f}", r);
            total += r;
        }
        fmt::print("PCA {} on {} x {}{}: explained variance ratio{} (total {:.4f})\n",
                   describe(model), x.rows(), x.cols(), o.scale ? " (scaled)" : "", ratios, total);
    } else if (o.method == "umap") {
        y = run_umap_reduce(x, o.features, o.umap, o.components, o.seed, o.threads, o.scale);
    } else if (o.method == "tsne") {
        y = run_tsne_reduce(x, o.tsne, o.components, o.seed, o.threads, o.scale);
    } else {
        KMeansResult r = run_kmeans(x, o.kmeans, o.seed, o.threads);
        y = kmeans_transform(r.centers, x, o.threads);
        fmt::print("{}\n", describe_kmeans(r, x, o.scale));
    }
    write_npy(o.out, y);
    fmt::print("wrote {} ({} x {} float32)\n", o.out, y.rows(), y.cols());
}

}  // namespace

void setup_reduce(CLI::App& app) {
    auto o = std::make_shared<ReduceOptions>();
    auto* sub = app.add_subcommand(
        "reduce",
        "Reduce features to a few dimensions: PCA, t-SNE (Barnes-Hut or FFT, scikit-learn "
        "semantics) or UMAP (umap-learn semantics, optionally supervised) coordinates, or KMeans "
        "distances to each centre (as the seed notebook's KMeans(n_clusters=2).fit_transform)");
    sub->add_option("--method", o->method, "pca, kmeans, tsne or umap")
        ->capture_default_str()
        ->check(CLI::IsMember({"pca", "kmeans", "tsne", "umap"}));
    sub->add_option("--features", o->features, "N x d features (.npy, .csv or .tsv)")->required();
    sub->add_option(
           "--out", o->out,
           "Output .npy (float32): N x components (pca, tsne, umap) or N x clusters (kmeans)")
        ->required();
    sub->add_flag("--scale", o->scale, "StandardScaler first (zero mean, unit variance columns)");
    sub->add_option("--components", o->components, "Output dimensions (PCA, t-SNE, UMAP)")
        ->capture_default_str()
        ->check(kPositive);
    sub->add_option("--solver", o->solver,
                    "PCA: auto, exact (converged eigenvectors of the covariance) or randomized "
                    "(subspace iteration, for very wide features such as logits)")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "exact", "randomized"}));
    add_kmeans_options(sub, o->kmeans, "KMeans: ");
    add_tsne_options(sub, o->tsne);
    add_umap_options(sub, o->umap);
    add_seed_option(sub, o->seed);
    add_threads_option(sub, o->threads);
    sub->callback([o] { run_reduce(*o); });
}

}  // namespace promptlens::cli
