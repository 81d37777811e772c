#include "apps/reduce_tsne.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

#include "core/error.hpp"
#include "core/progress.hpp"

namespace promptlens::cli {
namespace {

// Binds `value` to the flag `name`: adds it, or — when another method of the subcommand already
// registered that name — also takes our value from theirs (CLI11 runs `each` on every value).
template <class T>
void bind_flag(CLI::App* app, const std::string& name, T& value, const std::string& help) {
    if (CLI::Option* shared = app->get_option_no_throw(name)) {
        shared->description(shared->get_description() + "; " + help);
        shared->each([&value, name](const std::string& text) {
            T parsed{};
            require(CLI::detail::lexical_cast(text, parsed), "{}: cannot read '{}'", name, text);
            value = parsed;
        });
        return;
    }
    app->add_option(name, value, help)->capture_default_str();
}

}  // namespace

void add_tsne_options(CLI::App* app, TsneFlags& f) {
    bind_flag(app, "--perplexity", f.perplexity,
              "t-SNE: effective number of neighbours (k = 3*perplexity + 1 searched); must be "
              "below N - 1");
    bind_flag(app, "--iterations", f.iterations,
              "t-SNE: gradient-descent iterations in all (the first 250 exaggerated)");
    bind_flag(app, "--learning-rate", f.learning_rate,
              "t-SNE: a positive number or auto = max(N / early_exaggeration / 4, 50)");
    bind_flag(app, "--early-exaggeration", f.early_exaggeration,
              "t-SNE: P multiplier during the first 250 iterations");
    bind_flag(app, "--init", f.init,
              "t-SNE: pca (principal components scaled to std 1e-4) or random (N(0, 1e-4^2) "
              "from --seed)");
    bind_flag(app, "--repulsion", f.repulsion,
              fmt::format("t-SNE repulsive forces: exact (O(N^2)), barnes-hut, fft, or auto = "
                          "exact below {} rows, barnes-hut below {}, fft above",
                          kTsneExactMaxRows, kTsneBarnesHutMaxRows));
    bind_flag(app, "--theta", f.theta,
              "t-SNE Barnes-Hut accuracy (sklearn's angle): larger is faster and coarser");
    bind_flag(app, "--metric", f.metric,
              "t-SNE input distance: euclidean, or cosine (rows L2-normalised; P from the squared "
              "cosine distances as sklearn's metric='cosine')");
}

TsneOptions tsne_options(const TsneFlags& f, size_t components, uint64_t seed, int threads) {
    TsneOptions o;
    o.components = components;
    o.perplexity = f.perplexity;
    o.max_iter = f.iterations;
    o.early_exaggeration = f.early_exaggeration;
    o.seed = seed;
    o.threads = threads;
    if (f.learning_rate == "auto") {
        o.learning_rate = 0;
    } else {
        char* end = nullptr;
        const double lr = std::strtod(f.learning_rate.c_str(), &end);
        require(end != f.learning_rate.c_str() && *end == '\0' && std::isfinite(lr) && lr > 0,
                "--learning-rate must be a positive number or auto, got '{}'", f.learning_rate);
        o.learning_rate = lr;
    }
    if (f.init == "pca") {
        o.init = TsneInit::pca;
    } else if (f.init == "random") {
        o.init = TsneInit::random;
    } else {
        fail("--init for t-SNE must be pca or random, got '{}'", f.init);
    }
    if (f.metric == "euclidean") {
        o.metric = TsneMetric::euclidean;
    } else if (f.metric == "cosine") {
        o.metric = TsneMetric::cosine;
    } else {
        fail("--metric for t-SNE must be euclidean or cosine, got '{}'", f.metric);
    }
    o.repulsion_auto = f.repulsion == "auto";
    if (f.repulsion == "exact") {
        o.repulsion.method = TsneRepulsionMethod::exact;
    } else if (f.repulsion == "barnes-hut") {
        o.repulsion.method = TsneRepulsionMethod::barnes_hut;
    } else if (f.repulsion == "fft") {
        o.repulsion.method = TsneRepulsionMethod::fft;
    } else {
        require(o.repulsion_auto, "--repulsion must be auto, exact, barnes-hut or fft, got '{}'",
                f.repulsion);
    }
    require(f.theta >= 0 && f.theta <= 1, "--theta must be in [0, 1], got {}", f.theta);
    o.repulsion.theta = f.theta;
    return o;
}

Matrix run_tsne_reduce(ConstMatView x, const TsneFlags& f, size_t components, uint64_t seed,
                       int threads, bool scaled) {
    const TsneOptions o = tsne_options(f, components, seed, threads);
    TsneResult r;
    {
        Progress progress("t-SNE", o.max_iter, "iterations");
        r = tsne_fit(x, o, progress.callback(), [&](size_t iteration, size_t, double kl) {
            progress.update(iteration, fmt::format("KL {:.4f}", kl));
        });
        progress.finish();
    }
    fmt::print(
        "t-SNE on {} x {}{} ({}): perplexity {} (k = {}{}), {} repulsion, learning rate {:.4g}, "
        "{} iterations ({}), KL {:.4f}, {:.1f}s (affinities {:.1f}s, optimisation {:.1f}s)\n",
        x.rows(), x.cols(), scaled ? " (scaled)" : "", to_string(o.metric), o.perplexity,
        r.neighbors,
        r.rows_not_converged
            ? fmt::format(", {} rows short of the perplexity after 100 steps", r.rows_not_converged)
            : std::string(),
        tsne_method_name(r.repulsion), r.learning_rate, r.iterations, to_string(r.stop),
        r.kl_divergence, r.seconds_affinities + r.seconds_init + r.seconds_optimize,
        r.seconds_affinities, r.seconds_optimize);
    return std::move(r.embedding);
}

}  // namespace promptlens::cli
