#include "embed/umap_spectral.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "linalg/block_krylov.hpp"
#include "linalg/eigen.hpp"

namespace promptlens {
namespace {

constexpr size_t kRowBlock = 1024;
constexpr size_t kDenseMax = 512;        // components up to this size: dense LAPACK
constexpr double kKrylovMemory = 128e6;  // bytes for the Krylov basis and its products
constexpr double kTolerance = 1e-4;      // relative residual, like umap-learn's eigsh tol
constexpr int kPower = 4;                // C = (P·(I + M)·P / 2)^kPower

// The rows of g in `rows` (sorted) as a graph of their own.
SparseGraph subgraph(const SparseGraph& g, const std::vector<int32_t>& rows,
                     const std::vector<int32_t>& local) {
    SparseGraph s;
    s.rows = s.cols = rows.size();
    s.indptr.assign(rows.size() + 1, 0);
    for (size_t i = 0; i < rows.size(); ++i) {
        const int32_t r = rows[i];
        for (int64_t p = g.indptr[r]; p < g.indptr[r + 1]; ++p) {
            s.indices.push_back(local[g.indices[p]]);
            s.values.push_back(g.values[p]);
        }
        s.indptr[i + 1] = static_cast<int64_t>(s.indices.size());
    }
    return s;
}

std::vector<double> inv_sqrt_degree(const SparseGraph& g) {
    std::vector<double> d(g.rows);
    for (size_t i = 0; i < g.rows; ++i) {
        double s = 0;
        for (int64_t p = g.indptr[i]; p < g.indptr[i + 1]; ++p) s += g.values[p];
        d[i] = s > 0 ? 1 / std::sqrt(s) : 0;
    }
    return d;
}

struct ComponentLayout {
    MatrixD v;  // n×dim
    bool converged = true;
    double residual = 0;
    size_t products = 0;
};

// Eigenvectors 2..dim+1 of the normalised Laplacian of the connected graph g (n > dim + 1).
ComponentLayout spectral_component(const SparseGraph& g, size_t dim, uint64_t seed, int threads) {
    const size_t n = g.rows;
    ComponentLayout out;
    if (n <= kDenseMax) {
        out.v = reference::spectral_layout_dense(g, dim);
        return out;
    }
    const std::vector<double> dinv = inv_sqrt_degree(g);
    std::vector<double> u0(n);  // √degree, normalised: the known top eigenvector
    double norm = 0;
    for (size_t i = 0; i < n; ++i) {
        u0[i] = dinv[i] > 0 ? 1 / dinv[i] : 0;
        norm += u0[i] * u0[i];
    }
    for (double& x : u0) x /= std::sqrt(norm);

    auto project = [&](MatrixD& v) {  // v ← (I − u₀u₀ᵀ)·v, dots in row order
        for (size_t j = 0; j < v.cols(); ++j) {
            double dot = 0;
            for (size_t i = 0; i < n; ++i) dot += u0[i] * v(i, j);
            for (size_t i = 0; i < n; ++i) v(i, j) -= dot * u0[i];
        }
    };
    const GramProduct product = [&](ConstMatView q, MatrixD& z) {
        const size_t r = q.cols();
        MatrixD v(n, r), w(n, r);
        for (size_t i = 0; i < n; ++i)
            for (size_t j = 0; j < r; ++j) v(i, j) = q(i, j);
        project(v);
        for (int pass = 0; pass < kPower; ++pass) {
            parallel_for(chunk_count(n, kRowBlock), threads, [&](size_t c) {
                const size_t end = std::min(n, (c + 1) * kRowBlock);
                std::vector<double> acc(r);
                for (size_t i = c * kRowBlock; i < end; ++i) {
                    std::fill(acc.begin(), acc.end(), 0.0);
                    for (int64_t p = g.indptr[i]; p < g.indptr[i + 1]; ++p) {
                        const size_t j = static_cast<size_t>(g.indices[p]);
                        const double wij = g.values[p] * dinv[j];
                        for (size_t t = 0; t < r; ++t) acc[t] += wij * v(j, t);
                    }
                    for (size_t t = 0; t < r; ++t) w(i, t) = 0.5 * (v(i, t) + dinv[i] * acc[t]);
                }
            });
            std::swap(v, w);
        }
        project(v);
        for (size_t i = 0; i < n; ++i)
            for (size_t j = 0; j < r; ++j) z(i, j) = v(i, j);
    };
    BlockKrylovOptions o;
    o.rank = dim;
    o.block = std::max<size_t>(dim + 6, 8);
    o.max_products = std::clamp<size_t>(
        static_cast<size_t>(kKrylovMemory / (16.0 * static_cast<double>(n * o.block))), 4, 24);
    o.tolerance = kTolerance;
    o.seed = seed;
    BlockKrylovResult k = block_krylov_top_eigen(n, product, o);
    out.v = std::move(k.v);
    out.converged = k.converged;
    out.products = k.products;
    for (double r : k.residuals) out.residual = std::max(out.residual, r);
    return out;
}

// Positions of the components (count×dim) and whether they came from the data.
MatrixD component_positions(const std::vector<int32_t>& comp, size_t count, size_t dim,
                            ConstMatView data, Rng& rng, std::string& note) {
    MatrixD meta(count, dim);
    if (count <= 2 * dim) {  // umap-learn: ±unit vectors
        const size_t k = (count + 1) / 2;
        for (size_t c = 0; c < count; ++c) meta(c, c % k) = c < k ? 1 : -1;
        return meta;
    }
    if (data.rows() == 0 || count > 3000) {
        for (double& x : meta.values()) x = 2 * rng.uniform() - 1;
        note += " component positions are random;";
        return meta;
    }
    // Top principal axes of the component centroids, scaled to max |x| = 1.
    const size_t d = data.cols();
    MatrixD cen(count, d);
    std::vector<double> size(count, 0);
    for (size_t i = 0; i < data.rows(); ++i) {
        size[comp[i]] += 1;
        for (size_t j = 0; j < d; ++j) cen(comp[i], j) += data(i, j);
    }
    std::vector<double> mean(d, 0);
    for (size_t c = 0; c < count; ++c)
        for (size_t j = 0; j < d; ++j) mean[j] += (cen(c, j) /= size[c]) / double(count);
    for (size_t c = 0; c < count; ++c)
        for (size_t j = 0; j < d; ++j) cen(c, j) -= mean[j];
    MatrixD gram(count, count);
    for (size_t a = 0; a < count; ++a)
        for (size_t b = a; b < count; ++b) {
            double s = 0;
            for (size_t j = 0; j < d; ++j) s += cen(a, j) * cen(b, j);
            gram(a, b) = gram(b, a) = s;
        }
    SymmetricEigen e = symmetric_eigen_top(gram, std::min(dim, count));
    double mx = 0;
    for (size_t c = 0; c < count; ++c)
        for (size_t t = 0; t < e.values.size(); ++t) {
            meta(c, t) = e.vectors(c, t) * std::sqrt(std::max(e.values[t], 0.0));
            mx = std::max(mx, std::fabs(meta(c, t)));
        }
    if (mx > 0)
        for (double& x : meta.values()) x /= mx;
    return meta;
}

}  // namespace

std::vector<int32_t> connected_components(const SparseGraph& g, size_t* count) {
    std::vector<int32_t> comp(g.rows, -1);
    std::vector<int32_t> stack;
    int32_t next = 0;
    for (size_t s = 0; s < g.rows; ++s) {
        if (comp[s] >= 0) continue;
        comp[s] = next;
        stack.assign(1, static_cast<int32_t>(s));
        while (!stack.empty()) {
            const int32_t r = stack.back();
            stack.pop_back();
            for (int64_t p = g.indptr[r]; p < g.indptr[r + 1]; ++p)
                if (comp[g.indices[p]] < 0) {
                    comp[g.indices[p]] = next;
                    stack.push_back(g.indices[p]);
                }
        }
        ++next;
    }
    if (count) *count = static_cast<size_t>(next);
    return comp;
}

SpectralInit umap_spectral_init(const SparseGraph& g, size_t dim, ConstMatView data, uint64_t seed,
                                int threads) {
    const size_t n = g.rows;
    SpectralInit out;
    out.embedding = Matrix(n, dim);
    out.component = connected_components(g, &out.components);
    Rng rng(seed, 11);
    auto random_fill = [&](std::span<const int32_t> rows, const double* centre, double range) {
        for (int32_t r : rows)
            for (size_t t = 0; t < dim; ++t)
                out.embedding(r, t) =
                    static_cast<float>(centre[t] + range * (2 * rng.uniform() - 1));
    };
    auto usable = [](const MatrixD& v) {
        for (double x : v.values())
            if (!std::isfinite(x)) return false;
        return v.rows() > 0;
    };

    if (out.components == 1) {
        std::vector<double> zero(dim, 0.0);
        if (n <= dim + 1) {
            std::vector<int32_t> all(n);
            for (size_t i = 0; i < n; ++i) all[i] = static_cast<int32_t>(i);
            random_fill(all, zero.data(), 10.0);
            out.note = fmt::format(
                "spectral initialisation needs more than {} rows; falling back "
                "to random initialisation",
                dim + 1);
            return out;
        }
        ComponentLayout c = spectral_component(g, dim, seed, threads);
        if (!usable(c.v)) {
            std::vector<int32_t> all(n);
            for (size_t i = 0; i < n; ++i) all[i] = static_cast<int32_t>(i);
            random_fill(all, zero.data(), 10.0);
            out.note =
                "spectral initialisation failed (eigensolver gave no finite vectors); "
                "falling back to random initialisation";
            return out;
        }
        for (size_t i = 0; i < n; ++i)
            for (size_t t = 0; t < dim; ++t) out.embedding(i, t) = static_cast<float>(c.v(i, t));
        out.converged = c.converged;
        out.worst_residual = c.residual;
        out.products = c.products;
        if (!c.converged)
            out.note = fmt::format(
                "spectral initialisation: eigenvector residual {:.1e} after {} "
                "products (tolerance {:.0e}); using the approximate vectors",
                c.residual, c.products, kTolerance);
        return out;
    }

    // Several components: laid out one by one around their positions.
    const size_t count = out.components;
    std::string note;
    const MatrixD meta = component_positions(out.component, count, dim, data, rng, note);
    std::vector<std::vector<int32_t>> members(count);
    for (size_t i = 0; i < n; ++i) members[out.component[i]].push_back(static_cast<int32_t>(i));
    std::vector<int32_t> local(n, -1);
    size_t random_components = 0;
    for (size_t c = 0; c < count; ++c) {
        double range = std::numeric_limits<double>::infinity();
        for (size_t o = 0; o < count; ++o) {
            double s = 0;
            for (size_t t = 0; t < dim; ++t)
                s += (meta(c, t) - meta(o, t)) * (meta(c, t) - meta(o, t));
            if (s > 0) range = std::min(range, std::sqrt(s) / 2);
        }
        if (!std::isfinite(range)) range = 1;
        const auto& rows = members[c];
        const double* centre = &meta(c, 0);
        if (rows.size() < 2 * dim || rows.size() <= dim + 1) {
            random_fill(rows, centre, range);
            ++random_components;
            continue;
        }
        for (size_t i = 0; i < rows.size(); ++i) local[rows[i]] = static_cast<int32_t>(i);
        ComponentLayout l = spectral_component(subgraph(g, rows, local), dim, seed + c, threads);
        if (!usable(l.v)) {
            random_fill(rows, centre, range);
            ++random_components;
            continue;
        }
        out.converged = out.converged && l.converged;
        out.worst_residual = std::max(out.worst_residual, l.residual);
        out.products += l.products;
        double mx = 0;
        for (double x : l.v.values()) mx = std::max(mx, std::fabs(x));
        const double scale = mx > 0 ? range / mx : 0;
        for (size_t i = 0; i < rows.size(); ++i)
            for (size_t t = 0; t < dim; ++t)
                out.embedding(rows[i], t) = static_cast<float>(l.v(i, t) * scale + centre[t]);
    }
    out.note =
        fmt::format("the graph has {} connected components: laid out one by one;{}", count, note);
    if (random_components > 0)
        out.note += fmt::format(
            " {} of them too small for a spectral layout: random "
            "initialisation there;",
            random_components);
    if (!out.converged)
        out.note += fmt::format(" eigenvector residual {:.1e} (tolerance {:.0e});",
                                out.worst_residual, kTolerance);
    out.note.pop_back();
    return out;
}

namespace reference {

MatrixD spectral_layout_dense(const SparseGraph& g, size_t dim) {
    const size_t n = g.rows;
    require(n > dim + 1, "internal: dense spectral layout of {} rows in {} dimensions", n, dim);
    const std::vector<double> dinv = inv_sqrt_degree(g);
    MatrixD m(n, n);  // D^(−1/2)·W·D^(−1/2): its top eigenvectors are L's bottom ones
    for (size_t i = 0; i < n; ++i)
        for (int64_t p = g.indptr[i]; p < g.indptr[i + 1]; ++p)
            m(i, g.indices[p]) = dinv[i] * g.values[p] * dinv[g.indices[p]];
    SymmetricEigen e = symmetric_eigen_top(m, dim + 1);
    MatrixD v(n, dim);
    for (size_t i = 0; i < n; ++i)
        for (size_t t = 0; t < dim; ++t) v(i, t) = e.vectors(i, t + 1);
    return v;
}

}  // namespace reference
}  // namespace promptlens
