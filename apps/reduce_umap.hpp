// `promptlens reduce --method umap`: the UMAP flags (bound by add_umap_options) and the run
// (run_umap_reduce) that shows progress (stage, epoch, objective, ETA), prints what was
// approximated or truncated, optionally embeds extra rows into the fitted embedding
// (--transform-features → --transform-out) and prints a one-line summary. The algorithm itself
// is src/embed/umap.hpp.
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/matrix.hpp"
#include "embed/umap.hpp"

namespace promptlens::cli {

struct UmapFlags {
    size_t n_neighbors = 15;
    double min_dist = 0.1, spread = 1.0;
    size_t epochs = 0;  // 0 = auto (500 up to 10,000 rows, else 200)
    // Flags t-SNE shares by name (strings, parsed when UMAP runs, so either method's values pass
    // through the other's binding).
    std::string learning_rate = "1", init = "spectral", metric = "euclidean";
    double negative_sample_rate = 5;
    std::string supervised_labels;  // labels file: supervised UMAP
    double target_weight = 0.5;
    std::string transform_features, transform_out;  // extra rows embedded after the fit
    std::string schedule = "parallel";              // parallel | serial (umap-learn's loop)
};

// Adds the UMAP flags to `reduce`. A flag another method already registered under the same name
// (--init, --learning-rate, --metric) is shared: our value is taken from it too.
void add_umap_options(CLI::App* app, UmapFlags& flags);

// The options umap_fit gets from the flags and the shared --components / --seed / --threads.
UmapOptions umap_options(const UmapFlags& flags, size_t components, uint64_t seed, int threads);

// Runs UMAP on x (N×d, loaded from features_path, StandardScaler'd when `scaled`) with progress on
// stderr, prints one summary line on stdout, writes the transform output when asked, and returns
// the N×components float32 embedding.
Matrix run_umap_reduce(ConstMatView x, const std::string& features_path, const UmapFlags& flags,
                       size_t components, uint64_t seed, int threads, bool scaled);

}  // namespace promptlens::cli
