#include "metrics/neighbor_index.hpp"

#include "core/error.hpp"

namespace promptlens {

NeighborMethod resolve_method(const NeighborIndexOptions& options, size_t rows) {
    if (options.method != NeighborMethod::automatic) return options.method;
    return rows <= options.exact_max_rows ? NeighborMethod::exact : NeighborMethod::approximate;
}

std::unique_ptr<NeighborIndex> make_neighbor_index(ConstMatView data,
                                                   const NeighborIndexOptions& options) {
    require(options.max_k >= 1 && options.max_k < data.rows(),
            "neighbours: {} neighbours requested from {} rows; need 1 <= k < rows", options.max_k,
            data.rows());
    if (resolve_method(options, data.rows()) == NeighborMethod::exact)
        return std::make_unique<ExactNeighbors>(data, options.metric);
    NNDescentOptions nd = options.nn_descent;
    nd.n_neighbors = options.max_k;
    nd.seed = options.seed;
    nd.threads = options.threads;
    return std::make_unique<NNDescentIndex>(data, options.metric, nd);
}

}  // namespace promptlens
