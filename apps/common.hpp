// Pieces every subcommand shares: loading and checking features and labels, the common flags.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "core/labels.hpp"
#include "core/matrix.hpp"

namespace promptlens::cli {

// Reads .npy/.csv/.tsv features, refusing an empty matrix and NaN/Inf (naming row and column).
// With `scale`, applies StandardScaler (fitted on these rows).
Matrix load_features(const std::string& path, bool scale, int threads);

// Reads labels and checks there is one per row of `features_path`.
Labels load_labels(const std::string& path, size_t rows, const std::string& features_path);

// --threads and --seed, with the same meaning everywhere.
void add_threads_option(CLI::App* app, int& threads);
void add_seed_option(CLI::App* app, uint64_t& seed);

// Writes text atomically, creating parent directories.
void save_text(const std::string& path, const std::string& text);

}  // namespace promptlens::cli
