#include "apps/common.hpp"

#include "core/atomic_file.hpp"
#include "core/delimited.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
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

void add_threads_option(CLI::App* app, int& threads) {
    app->add_option("--threads", threads,
                    "Worker threads (0 = all cores); results are identical for any count")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
}

void add_seed_option(CLI::App* app, uint64_t& seed) {
    app->add_option("--seed", seed, "Random seed: the same seed gives the same result")
        ->capture_default_str();
}

void save_text(const std::string& path, const std::string& text) {
    write_text_file(path, text);
}

}  // namespace promptlens::cli
