#include "apps/reduce_umap.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <memory>

#include "apps/common.hpp"
#include "core/error.hpp"
#include "core/npy.hpp"
#include "core/progress.hpp"
#include "reduce/scaler.hpp"

namespace promptlens::cli {
namespace {

// Binds `value` to the flag `name`, or — when another method of the subcommand already
// registered that name — takes our value from theirs as well (string values: no parsing here).
void bind_shared(CLI::App* app, const std::string& name, std::string& value,
                 const std::string& help) {
    if (CLI::Option* shared = app->get_option_no_throw(name)) {
        shared->description(shared->get_description() + "; " + help);
        shared->each([&value](const std::string& text) { value = text; });
        return;
    }
    app->add_option(name, value, help)->capture_default_str();
}

}  // namespace

void add_umap_options(CLI::App* app, UmapFlags& f) {
    app->add_option("--n-neighbors", f.n_neighbors,
                    "UMAP: neighbourhood size counting the row itself (larger = more global)")
        ->capture_default_str()
        ->check(CLI::Range(size_t{2}, size_t{100000}));
    app->add_option("--min-dist", f.min_dist, "UMAP: how tightly points may pack (0..spread)")
        ->capture_default_str()
        ->check(kNonNegative);
    app->add_option("--spread", f.spread, "UMAP: scale of the embedded points")
        ->capture_default_str()
        ->check(kPositive);
    app->add_option("--epochs", f.epochs,
                    "UMAP: SGD epochs; 0 = 500 up to 10,000 rows, 200 above (umap-learn)")
        ->capture_default_str();
    app->add_option("--negative-sample-rate", f.negative_sample_rate,
                    "UMAP: negative samples per positive one")
        ->capture_default_str()
        ->check(kNonNegative);
    bind_shared(app, "--learning-rate", f.learning_rate, "UMAP: initial SGD step (default 1)");
    bind_shared(app, "--init", f.init, "UMAP: spectral (default), random or pca");
    bind_shared(app, "--metric", f.metric, "UMAP: euclidean (default) or cosine");
    app->add_option("--supervised-labels", f.supervised_labels,
                    "UMAP: labels file (one per row): supervised UMAP, as umap-learn's fit(X, y)")
        ->check(CLI::ExistingFile);
    app->add_option("--target-weight", f.target_weight,
                    "UMAP supervised: 0 = labels barely matter, 1 = labels only")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    app->add_option("--transform-features", f.transform_features,
                    "UMAP: extra rows (.npy/.csv/.tsv, same columns) to embed into the fitted "
                    "embedding after the fit (umap-learn's transform); needs --transform-out")
        ->check(CLI::ExistingFile);
    app->add_option("--transform-out", f.transform_out,
                    "UMAP: output .npy for the --transform-features rows");
    app->add_option("--umap-schedule", f.schedule,
                    "UMAP SGD: parallel (deterministic for any --threads) or serial (umap-learn's "
                    "own loop, one thread)")
        ->capture_default_str()
        ->check(CLI::IsMember({"parallel", "serial"}));
}

UmapOptions umap_options(const UmapFlags& f, size_t components, uint64_t seed, int threads) {
    UmapOptions o;
    o.n_neighbors = f.n_neighbors;
    o.components = components;
    o.min_dist = f.min_dist;
    o.spread = f.spread;
    o.epochs = f.epochs;
    o.negative_sample_rate = f.negative_sample_rate;
    o.target_weight = f.target_weight;
    o.seed = seed;
    o.threads = threads;
    char* end = nullptr;
    o.learning_rate = std::strtod(f.learning_rate.c_str(), &end);
    require(end != f.learning_rate.c_str() && *end == '\0' && std::isfinite(o.learning_rate) &&
                o.learning_rate > 0,
            "--learning-rate for UMAP must be a positive number, got '{}'", f.learning_rate);
    if (f.init == "spectral")
        o.init = UmapInit::spectral;
    else if (f.init == "random")
        o.init = UmapInit::random;
    else if (f.init == "pca")
        o.init = UmapInit::pca;
    else
        fail("--init for UMAP must be spectral, random or pca, got '{}'", f.init);
    if (f.metric == "euclidean")
        o.metric = UmapMetric::euclidean;
    else if (f.metric == "cosine")
        o.metric = UmapMetric::cosine;
    else
        fail("--metric for UMAP must be euclidean or cosine, got '{}'", f.metric);
    require(f.min_dist <= f.spread, "--min-dist ({}) must not exceed --spread ({})", f.min_dist,
            f.spread);
    o.schedule = f.schedule == "serial" ? UmapSchedule::serial : UmapSchedule::parallel;
    require(f.transform_features.empty() == f.transform_out.empty(),
            "--transform-features and --transform-out go together");
    return o;
}

Matrix run_umap_reduce(ConstMatView x, const std::string& features_path, const UmapFlags& f,
                       size_t components, uint64_t seed, int threads, bool scaled) {
    const UmapOptions o = umap_options(f, components, seed, threads);
    check_output_paths({f.transform_out});
    Labels labels;
    if (!f.supervised_labels.empty())
        labels = load_labels(f.supervised_labels, x.rows(), features_path);

    // One progress line per stage; the SGD's shows the epoch, the objective and the ETA.
    std::unique_ptr<Progress> bar;
    std::string stage;
    double last_objective = std::nan("");
    const UmapProgress progress = [&](const char* s, size_t done, size_t total, double obj) {
        if (stage != s) {
            if (bar) bar->finish();
            stage = s;
            last_objective = std::nan("");
            bar = std::make_unique<Progress>(fmt::format("UMAP {}", s), total,
                                             stage == "sgd" ? "epochs" : "");
        }
        if (!std::isnan(obj)) last_objective = obj;
        bar->update(done, std::isnan(last_objective)
                              ? std::string()
                              : fmt::format("objective {:.4f}", last_objective));
    };
    UmapModel m = umap_fit(x, o, labels.codes, progress);
    if (bar) bar->finish();
    bar.reset();
    for (const std::string& note : m.notes) fmt::print(stderr, "UMAP: {}\n", note);
    fmt::print(
        "UMAP on {} x {}{}{}: n_neighbors {}, min_dist {}, a {:.4f} b {:.4f}, {} init, {} "
        "epochs, objective {:.4f} -> {:.4f}, {:.1f}s (neighbours {:.1f}s, graph {:.1f}s, "
        "init {:.1f}s, SGD {:.1f}s)\n",
        x.rows(), x.cols(), scaled ? " (scaled)" : "",
        m.supervised ? fmt::format(", supervised by {} classes", labels.n_classes()) : "",
        m.n_neighbors, o.min_dist, m.a, m.b, f.init, m.epochs,
        m.objective.empty() ? 0.0 : m.objective.front().second,
        m.objective.empty() ? 0.0 : m.objective.back().second,
        m.seconds_neighbors + m.seconds_graph + m.seconds_init + m.seconds_sgd, m.seconds_neighbors,
        m.seconds_graph, m.seconds_init, m.seconds_sgd);
    if (!f.transform_features.empty()) {
        Matrix extra = load_features(f.transform_features, false, threads);
        if (scaled) {  // the scaler fitted on the training rows, as --scale applied it
            const Matrix raw = load_features(features_path, false, threads);
            StandardScaler::fit(raw, threads).transform_inplace(extra, threads);
        }
        const Matrix t = umap_transform(m, x, extra, progress);
        if (bar) bar->finish();
        write_npy(f.transform_out, t);
        fmt::print("UMAP transform: {} rows embedded, wrote {} ({} x {} float32)\n", t.rows(),
                   f.transform_out, t.rows(), t.cols());
    }
    return std::move(m.embedding);
}

}  // namespace promptlens::cli
