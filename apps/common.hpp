// Pieces every subcommand shares: loading and checking features and labels, the common flags.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "cluster/kmeans.hpp"
#include "core/labels.hpp"
#include "core/matrix.hpp"

namespace promptlens::cli {

// Reads .npy/.csv/.tsv features, refusing an empty matrix and NaN/Inf (naming row and column).
// With `scale`, applies StandardScaler (fitted on these rows).
Matrix load_features(const std::string& path, bool scale, int threads);

// Reads labels and checks there is one per row of `features_path`.
Labels load_labels(const std::string& path, size_t rows, const std::string& features_path);

// Number checks for options. CLI11's own PositiveNumber / NonNegativeNumber print their double
// bounds in full (a 309-digit maximum); these say what was expected: "--clusters: -3: expected a
// number > 0".
extern const CLI::Validator kPositive, kNonNegative;

// --threads and --seed, with the same meaning everywhere.
void add_threads_option(CLI::App* app, int& threads);
void add_seed_option(CLI::App* app, uint64_t& seed);

// The KMeans flags shared by `cluster` and `reduce --method kmeans`.
struct KMeansFlags {
    size_t clusters = 2, n_init = 10, max_iter = 300;
    double tol = 1e-4;
    std::string algorithm = "lloyd";
    std::string assignments;  // when set, each row's cluster is written there, one per line
};
// `prefix` starts each help text ("KMeans: " where other methods share the subcommand).
void add_kmeans_options(CLI::App* app, KMeansFlags& flags, const std::string& prefix = "");
// KMeans with progress on stderr; writes flags.assignments when it is set.
KMeansResult run_kmeans(ConstMatView x, const KMeansFlags& flags, uint64_t seed, int threads);

// One line: "KMeans k=2 on 1797 x 64 (scaled): inertia ..., 12 iterations".
std::string describe_kmeans(const KMeansResult& r, ConstMatView x, bool scaled);

// Fails now, before any work, if an output could not be written later (empty paths are skipped).
// Leaves no trace: folders it had to create for the probe are removed again.
void check_output_paths(std::initializer_list<std::string> paths);

// Writes text atomically, creating parent directories.
void save_text(const std::string& path, const std::string& text);

}  // namespace promptlens::cli
