// `promptlens reduce --method tsne`: the t-SNE flags (bound by add_tsne_options) and the run
// (run_tsne_reduce) that shows progress with the KL divergence every 50 iterations and prints a
// one-line summary. The algorithm itself is src/embed/tsne.hpp.
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/matrix.hpp"
#include "embed/tsne.hpp"

namespace promptlens::cli {

struct TsneFlags {
    double perplexity = 30;
    size_t iterations = 1000;
    std::string learning_rate = "auto";  // a positive number or "auto" (max(N/12/4, 50))
    double early_exaggeration = 12;
    std::string init = "pca";          // pca | random
    std::string repulsion = "auto";    // auto | exact | barnes-hut | fft
    double theta = 0.5;                // Barnes-Hut accuracy (sklearn's angle)
    std::string metric = "euclidean";  // euclidean | cosine (rows L2-normalised first)
};

// Adds the t-SNE flags to `reduce`. A flag another method already registered under the same name
// (--metric, --init, --learning-rate, --iterations) is shared: our value is taken from it too.
void add_tsne_options(CLI::App* app, TsneFlags& flags);

// The options tsne_fit gets from the flags and the shared --components / --seed / --threads.
TsneOptions tsne_options(const TsneFlags& flags, size_t components, uint64_t seed, int threads);

// Runs t-SNE on x (N×d) with progress on stderr, prints one summary line on stdout and returns
// the N×components float32 embedding. `scaled` only changes the summary text.
Matrix run_tsne_reduce(ConstMatView x, const TsneFlags& flags, size_t components, uint64_t seed,
                       int threads, bool scaled);

}  // namespace promptlens::cli
