// Internal: the two fast repulsion methods behind `tsne_repulsion` (tsne_repulsion.hpp), one file
// each. Same contract as the public function: write the unnormalised repulsion, return Z.
#pragma once

#include <cstddef>
#include <span>

#include "embed/tsne_repulsion.hpp"

namespace promptlens::detail {

double tsne_repulsion_barnes_hut(std::span<const double> y, size_t n, size_t dims,
                                 std::span<double> rep, const TsneRepulsionOptions& options);
double tsne_repulsion_fft(std::span<const double> y, size_t n, size_t dims, std::span<double> rep,
                          const TsneRepulsionOptions& options);

}  // namespace promptlens::detail
