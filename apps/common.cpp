#include "apps/common.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/delimited.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/progress.hpp"
#include "reduce/scaler.hpp"

namespace promptlens::cli {

Matrix load_features(const std::string& path, bool scale, int threads) {
    Matrix x = read_matrix(path);
    require(x.rows() > 0 && x.cols() > 0, "{}: empty matrix ({} x {}); expected rows of features",
            path, x.rows(), x.cols());
    check_finite(x, path);
    if (scale) StandardScaler::fit(x, threads).transform_inplace(x, threads);
    return x;
}

Labels load_labels(const std::string& path, size_t rows, const std::string& features_path) {
    Labels labels = read_labels(path);
    check_label_count(labels, rows, path, features_path);
    return labels;
}

namespace {
CLI::Validator sign_check(bool zero_ok) {
    return CLI::Validator(
        [zero_ok](std::string& input) -> std::string {
            double v = 0;
            if (CLI::detail::lexical_cast(input, v) && (v > 0 || (zero_ok && v == 0))) return {};
            return input + (zero_ok ? ": expected a number >= 0" : ": expected a number > 0");
        },
        zero_ok ? "NONNEGATIVE" : "POSITIVE");
}
}  // namespace

const CLI::Validator kPositive = sign_check(false);
const CLI::Validator kNonNegative = sign_check(true);

void add_threads_option(CLI::App* app, int& threads) {
    app->add_option("--threads", threads,
                    "Worker threads (0 = all cores); results are identical for any count")
        ->capture_default_str()
        ->check(kNonNegative);
}

void add_seed_option(CLI::App* app, uint64_t& seed) {
    app->add_option("--seed", seed, "Random seed: the same seed gives the same result")
        ->capture_default_str();
}

void add_kmeans_options(CLI::App* app, KMeansFlags& f, const std::string& prefix) {
    app->add_option("--clusters", f.clusters, prefix + "number of clusters K")
        ->capture_default_str()
        ->check(kPositive);
    app->add_option("--n-init", f.n_init, prefix + "restarts (k-means++ seeds); best inertia wins")
        ->capture_default_str()
        ->check(kPositive);
    app->add_option("--max-iter", f.max_iter, prefix + "iterations per restart")
        ->capture_default_str()
        ->check(kPositive);
    app->add_option("--tol", f.tol,
                    prefix + "convergence: squared centre shift relative to the mean variance")
        ->capture_default_str()
        ->check(kNonNegative);
    app->add_option("--algorithm", f.algorithm, prefix + "lloyd or elkan (same result)")
        ->capture_default_str()
        ->check(CLI::IsMember({"lloyd", "elkan"}));
    app->add_option("--assignments", f.assignments,
                    prefix + "also write each row's cluster to this file, one per line");
}

KMeansResult run_kmeans(ConstMatView x, const KMeansFlags& f, uint64_t seed, int threads) {
    KMeansOptions k;
    k.clusters = f.clusters;
    k.n_init = f.n_init;
    k.max_iter = f.max_iter;
    k.tol = f.tol;
    k.algorithm = f.algorithm == "elkan" ? KMeansAlgorithm::elkan : KMeansAlgorithm::lloyd;
    k.seed = seed;
    k.threads = threads;
    Progress progress(fmt::format("KMeans k={}, {} restarts", f.clusters, f.n_init), f.max_iter,
                      "steps");
    k.progress = progress.callback();
    KMeansResult r = kmeans_fit(x, k);
    progress.finish();
    if (!f.assignments.empty()) {
        std::string text;
        for (int32_t c : r.labels) text += fmt::format("{}\n", c);
        save_text(f.assignments, text);
    }
    return r;
}

std::string describe_kmeans(const KMeansResult& r, ConstMatView x, bool scaled) {
    return fmt::format("KMeans k={} on {} x {}{}: inertia {:.7g}, {} iterations{}",
                       r.centers.rows(), x.rows(), x.cols(), scaled ? " (scaled)" : "", r.inertia,
                       r.iterations, r.converged ? "" : " (did not converge: raise --max-iter)");
}

void check_output_paths(std::initializer_list<std::string> paths) {
    namespace fs = std::filesystem;
    for (const auto& p : paths) {
        if (p.empty()) continue;
        // The folders the probe creates are removed again (deepest first, only while empty), so
        // a command that fails before it writes leaves nothing behind; the writer creates them.
        std::vector<fs::path> created;
        for (fs::path d = fs::path(p).parent_path(); !d.empty() && !fs::exists(d);
             d = d.parent_path())
            created.push_back(d);
        {
            AtomicFile probe(p);  // opens the temporary, removes it when destroyed
        }
        std::error_code ec;
        for (const auto& d : created)
            if (!fs::remove(d, ec)) break;
    }
}

void save_text(const std::string& path, const std::string& text) {
    write_text_file(path, text);
}

}  // namespace promptlens::cli
