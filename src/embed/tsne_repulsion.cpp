#include "embed/tsne_repulsion.hpp"

#include "core/error.hpp"
#include "embed/tsne_repulsion_detail.hpp"

namespace promptlens {

double tsne_repulsion(std::span<const double> y, size_t n, size_t dims, std::span<double> rep,
                      const TsneRepulsionOptions& options) {
    require(
        y.size() == n * dims && rep.size() == n * dims,
        "t-SNE repulsion: {} points × {} dims need {} values, got {} coordinates and {} outputs", n,
        dims, n * dims, y.size(), rep.size());
    switch (options.method) {
        case TsneRepulsionMethod::exact:
            return reference::tsne_repulsion_exact(y, n, dims, rep);
        case TsneRepulsionMethod::barnes_hut:
            require(dims == 2, "t-SNE Barnes-Hut: needs a 2-D embedding, got {} dimensions", dims);
            return detail::tsne_repulsion_barnes_hut(y, n, dims, rep, options);
        case TsneRepulsionMethod::fft:
            require(dims == 1 || dims == 2,
                    "t-SNE FFT interpolation: needs a 1-D or 2-D embedding, got {} dimensions",
                    dims);
            return detail::tsne_repulsion_fft(y, n, dims, rep, options);
    }
    fail("t-SNE repulsion: unknown method");
}

namespace reference {

double tsne_repulsion_exact(std::span<const double> y, size_t n, size_t dims,
                            std::span<double> rep) {
    double z = 0;
    for (size_t i = 0; i < n; ++i) {
        const double* yi = y.data() + i * dims;
        double* ri = rep.data() + i * dims;
        for (size_t c = 0; c < dims; ++c) ri[c] = 0;
        for (size_t j = 0; j < n; ++j) {
            if (j == i) continue;
            const double* yj = y.data() + j * dims;
            double d2 = 0;
            for (size_t c = 0; c < dims; ++c) d2 += (yi[c] - yj[c]) * (yi[c] - yj[c]);
            const double w = 1.0 / (1.0 + d2);
            z += w;
            for (size_t c = 0; c < dims; ++c) ri[c] += w * w * (yi[c] - yj[c]);
        }
    }
    return z;
}

}  // namespace reference
}  // namespace promptlens
