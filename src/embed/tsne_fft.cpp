// FFT-accelerated interpolation of the t-SNE repulsion (FIt-SNE: Linderman, Rachh, Hoskins,
// Steinerberger & Kluger, Nature Methods 2019), for 1-D and 2-D embeddings.
//
// The embedding's bounding box is cut into `boxes` equal intervals per dimension, each holding
// p = interpolation_points equispaced Lagrange nodes at (k + ½)/p of the interval (FIt-SNE's
// placement), so the nodes form one equispaced grid of p·boxes per dimension. Then
//   1. spread: every point's charges q ∈ {1, y_i1, y_i2} go onto the p×p nodes around it, times
//      the Lagrange weights of its position (the adjoint of interpolation);
//   2. convolve: the node charges are convolved with a kernel sampled on the grid, as a circulant
//      2-D FFT product on a grid padded to twice the size (FFTW, r2c / c2r, double);
//   3. interpolate: every point reads the convolved values back with the same weights.
// Two kernels, w = 1/(1+d²) with charge 1 and w² with charges {1, y1, y2}, give per point
//   S_i = Σ_j w_ij,   T_i = Σ_j w_ij²,   U_i = Σ_j w_ij² y_j   (sums include j = i: w_ii = 1)
// so r_i = Σ_j w_ij² (y_i − y_j) = y_i T_i − U_i and Z = Σ_i S_i − N. (FIt-SNE gets Z from the w²
// kernel alone with a fourth charge |y|²; a separate w kernel costs the same number of FFTs, 9,
// and Z then has no cancellation.) Coordinates are centred on the box first so y_i T_i − U_i
// cancels as little as possible.
//
// Threads: the five forward FFTs (3 charge planes, 2 kernels) and the four inverse ones run as
// parallel tasks, each with single-threaded FFTW (plans are created under a mutex and cached by
// size; executing a plan on new arrays is thread-safe). Spreading runs over box rows: points are
// bucketed by the row of their interval, and each bucket writes only its own p grid rows, so there
// is no race and no per-thread grid; within a bucket points go in index order. Interpolation
// runs over fixed point chunks, Z is summed chunk by chunk in chunk order. The result is the same
// bytes for every thread count. Buffers live in a per-thread workspace reused across calls (a
// 600×600 padded grid is ~30 MB; allocating it each call costs page faults every iteration).
#include <fftw3.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "embed/tsne_repulsion_detail.hpp"

namespace promptlens::detail {
namespace {

constexpr size_t kPointChunk = 2048;          // points per interpolation chunk (fixed)
constexpr size_t kMaxGrid = size_t{1} << 26;  // padded grid values per plane (512 MB of doubles)

// FFTW-aligned buffer (every plane is its own allocation, so all share FFTW's alignment and the
// cached plans may execute on any of them).
template <class T>
class FftwBuffer {
  public:
    FftwBuffer() = default;
    FftwBuffer(const FftwBuffer&) = delete;
    FftwBuffer& operator=(const FftwBuffer&) = delete;
    ~FftwBuffer() { fftw_free(data_); }
    T* get(size_t size) {
        if (size > capacity_) {
            fftw_free(data_);
            data_ = static_cast<T*>(fftw_malloc(size * sizeof(T)));
            require(data_ != nullptr, "t-SNE FFT: cannot allocate {} bytes", size * sizeof(T));
            capacity_ = size;
        }
        return data_;
    }

  private:
    T* data_ = nullptr;
    size_t capacity_ = 0;
};

using RealBuffer = FftwBuffer<double>;
using ComplexBuffer = FftwBuffer<fftw_complex>;

// Forward r2c and inverse c2r plans for a rows×cols real grid (rows = 1: a 1-D transform).
struct Plans {
    fftw_plan forward;
    fftw_plan inverse;
};

// Plans by grid size, kept for the process lifetime (destroyed at exit, so leak checkers stay
// quiet). FFTW's planner is not thread-safe: the mutex serialises planning.
struct PlanCache {
    std::mutex mutex;
    std::map<std::pair<size_t, size_t>, Plans> plans;
    ~PlanCache() {
        for (auto& [size, p] : plans) {
            fftw_destroy_plan(p.forward);
            fftw_destroy_plan(p.inverse);
        }
    }
};

Plans plans_for(size_t rows, size_t cols) {
    static PlanCache plan_cache;
    std::lock_guard lock(plan_cache.mutex);
    auto& cache = plan_cache.plans;
    auto it = cache.find({rows, cols});
    if (it != cache.end()) return it->second;
    const size_t spectrum = rows * (cols / 2 + 1);
    double* real = fftw_alloc_real(rows * cols);
    fftw_complex* cplx = fftw_alloc_complex(spectrum);
    require(real != nullptr && cplx != nullptr, "t-SNE FFT: cannot allocate a {}×{} grid", rows,
            cols);
    const int n[2] = {static_cast<int>(rows), static_cast<int>(cols)};
    const int rank = rows == 1 ? 1 : 2;
    const int* dims = rows == 1 ? n + 1 : n;
    Plans plans{fftw_plan_dft_r2c(rank, dims, real, cplx, FFTW_ESTIMATE),
                fftw_plan_dft_c2r(rank, dims, cplx, real, FFTW_ESTIMATE)};
    fftw_free(real);
    fftw_free(cplx);
    require(plans.forward != nullptr && plans.inverse != nullptr,
            "t-SNE FFT: FFTW could not plan a {}×{} transform", rows, cols);
    cache.emplace(std::pair{rows, cols}, plans);
    return plans;
}

// Smallest 2^a 3^b 5^c 7^d >= n (sizes FFTW handles fastest).
size_t smooth_at_least(size_t n) {
    for (size_t m = std::max<size_t>(n, 1);; ++m) {
        size_t r = m;
        for (size_t f : {2, 3, 5, 7})
            while (r % f == 0) r /= f;
        if (r == 1) return m;
    }
}

// One axis of the grid. A missing axis (1-D embedding) has one node, no padding, weight 1.
struct Axis {
    size_t boxes = 1;
    size_t p = 1;      // nodes per box
    size_t nodes = 1;  // p·boxes
    size_t fft = 1;    // padded length: 2·nodes, or 1 for a missing axis
    double lo = 0;     // lower edge of the box (in centred coordinates)
    double box_width = 1;
    double spacing = 0;  // distance between neighbouring nodes
};

Axis make_axis(double lo, double hi, const TsneRepulsionOptions& options) {
    double extent = hi - lo;
    const double centre = 0.5 * (lo + hi);
    // A zero extent (one point, or all points equal) still needs a positive box.
    const double floor = 1e-12 * std::max({1.0, std::fabs(lo), std::fabs(hi)});
    if (!(extent > floor)) {
        extent = floor;
        lo = centre - 0.5 * extent;
    }
    Axis a;
    const double wanted = std::ceil(extent / options.interval_width_max);
    require(wanted < 1e6,
            "t-SNE FFT: the embedding spans {} units, {} intervals of at most {} per dimension are "
            "too many; raise interval_width_max",
            extent, wanted, options.interval_width_max);
    a.boxes = smooth_at_least(
        std::max(static_cast<size_t>(options.min_intervals), static_cast<size_t>(wanted)));
    a.p = static_cast<size_t>(options.interpolation_points);
    a.nodes = a.p * a.boxes;
    a.fft = 2 * a.nodes;
    a.lo = lo;
    a.box_width = extent / static_cast<double>(a.boxes);
    a.spacing = a.box_width / static_cast<double>(a.p);
    return a;
}

// Per point and axis: the first node it touches and its p Lagrange weights.
struct AxisWeights {
    std::vector<uint32_t> first;  // n
    std::vector<double> w;        // n×p
};

void lagrange_weights(const Axis& a, const double* y, size_t stride, size_t n, AxisWeights& out) {
    out.first.resize(n);
    out.w.resize(n * a.p);
    if (a.p == 1 && a.boxes == 1 && a.fft == 1) {  // missing axis
        std::fill(out.first.begin(), out.first.end(), 0);
        std::fill(out.w.begin(), out.w.end(), 1.0);
        return;
    }
    const size_t p = a.p;
    std::array<double, 64> node{}, inv_denominator{};
    require(p <= node.size(), "t-SNE FFT: at most {} interpolation points, got {}", node.size(), p);
    for (size_t k = 0; k < p; ++k)
        node[k] = (static_cast<double>(k) + 0.5) / static_cast<double>(p);
    for (size_t k = 0; k < p; ++k) {
        double d = 1;
        for (size_t m = 0; m < p; ++m)
            if (m != k) d *= node[k] - node[m];
        inv_denominator[k] = 1.0 / d;
    }
    const double inv_width = 1.0 / a.box_width;
    const auto last = static_cast<double>(a.boxes - 1);
    for (size_t i = 0; i < n; ++i) {
        const double t = (y[i * stride] - a.lo) * inv_width;
        const double box = std::clamp(std::floor(t), 0.0, last);
        const double u = t - box;  // position inside the box, in [0, 1]
        out.first[i] = static_cast<uint32_t>(box) * static_cast<uint32_t>(p);
        double* w = out.w.data() + i * p;
        for (size_t k = 0; k < p; ++k) {
            double prod = inv_denominator[k];
            for (size_t m = 0; m < p; ++m)
                if (m != k) prod *= u - node[m];
            w[k] = prod;
        }
    }
}

struct Workspace {
    std::vector<double> centred;  // n×dims
    AxisWeights row, col;
    std::vector<uint32_t> bucket_start, bucket_points;
    std::array<RealBuffer, 3> charges;      // spread charges, padded rows×cols
    std::array<RealBuffer, 2> kernel_grid;  // the two kernels sampled on the padded grid
    std::array<ComplexBuffer, 3> spectrum;  // FFT of the charges
    std::array<ComplexBuffer, 2> kernel_spectrum;
    std::array<ComplexBuffer, 4> product;
    std::array<RealBuffer, 4> potential;  // convolved values on the padded grid
};

}  // namespace

double tsne_repulsion_fft(std::span<const double> y, size_t n, size_t dims, std::span<double> rep,
                          const TsneRepulsionOptions& options) {
    require(dims == 1 || dims == 2,
            "t-SNE FFT interpolation: needs a 1-D or 2-D embedding, got {} dimensions", dims);
    require(options.interpolation_points >= 1 && options.interpolation_points <= 64,
            "t-SNE FFT: interpolation_points must be in [1, 64], got {}",
            options.interpolation_points);
    require(options.min_intervals >= 1, "t-SNE FFT: min_intervals must be >= 1, got {}",
            options.min_intervals);
    require(options.interval_width_max > 0, "t-SNE FFT: interval_width_max must be > 0, got {}",
            options.interval_width_max);
    require(n < (size_t{1} << 31), "t-SNE FFT: {} points are too many (max 2^31)", n);
    for (size_t k = 0; k < n * dims; ++k)
        require(std::isfinite(y[k]), "t-SNE FFT: coordinate {} of point {} is {}", k % dims,
                k / dims, y[k]);
    std::fill(rep.begin(), rep.end(), 0.0);
    if (n <= 1) return 0;

    // The caller's workspace, named by a plain reference: inside the parallel lambdas the
    // thread_local itself would be each worker's own (empty) instance.
    thread_local Workspace caller_workspace;
    Workspace& ws = caller_workspace;

    // Centre every dimension on its bounding box; grid axes: rows = dim 0 and cols = dim 1 for
    // 2-D, a missing row axis and cols = dim 0 for 1-D.
    ws.centred.resize(n * dims);
    std::array<Axis, 2> axis{};
    for (size_t d = 0; d < dims; ++d) {
        double lo = y[d], hi = y[d];
        for (size_t i = 0; i < n; ++i) {
            lo = std::min(lo, y[i * dims + d]);
            hi = std::max(hi, y[i * dims + d]);
        }
        const double centre = 0.5 * (lo + hi);
        for (size_t i = 0; i < n; ++i) ws.centred[i * dims + d] = y[i * dims + d] - centre;
        axis[2 - dims + d] = make_axis(lo - centre, hi - centre, options);
    }
    const Axis& ar = axis[0];
    const Axis& ac = axis[1];
    const size_t rows = ar.fft, cols = ac.fft, half = cols / 2 + 1;
    require(rows * cols <= kMaxGrid,
            "t-SNE FFT: a {}×{} grid is too large (max {} values); raise interval_width_max", rows,
            cols, kMaxGrid);
    const size_t grid = rows * cols, spectrum = rows * half;
    const size_t n_charges = 1 + dims;  // 1, y_1[, y_2]
    const size_t n_potentials = 2 + dims;
    const Plans plans = plans_for(rows, cols);
    const int threads = options.threads;

    // 1. Lagrange weights per axis; bucket points by box row (counting sort, stable).
    if (dims == 2) {
        lagrange_weights(ar, ws.centred.data(), 2, n, ws.row);
        lagrange_weights(ac, ws.centred.data() + 1, 2, n, ws.col);
    } else {
        lagrange_weights(ar, nullptr, 1, n, ws.row);
        lagrange_weights(ac, ws.centred.data(), 1, n, ws.col);
    }
    const size_t p_r = ar.p, p_c = ac.p;
    ws.bucket_start.assign(ar.boxes + 1, 0);
    for (size_t i = 0; i < n; ++i) ++ws.bucket_start[ws.row.first[i] / p_r + 1];
    for (size_t b = 0; b < ar.boxes; ++b) ws.bucket_start[b + 1] += ws.bucket_start[b];
    ws.bucket_points.resize(n);
    {
        std::vector<uint32_t> fill(ws.bucket_start.begin(), ws.bucket_start.end() - 1);
        for (size_t i = 0; i < n; ++i)
            ws.bucket_points[fill[ws.row.first[i] / p_r]++] = static_cast<uint32_t>(i);
    }

    // 2. Spread the charges; each box row writes its own p grid rows.
    std::array<double*, 3> charge{};
    for (size_t q = 0; q < n_charges; ++q) charge[q] = ws.charges[q].get(grid);
    parallel_for(ar.boxes, threads, [&](size_t b) {
        for (size_t q = 0; q < n_charges; ++q)
            std::fill(charge[q] + b * p_r * cols, charge[q] + (b + 1) * p_r * cols, 0.0);
        for (uint32_t k = ws.bucket_start[b]; k < ws.bucket_start[b + 1]; ++k) {
            const uint32_t i = ws.bucket_points[k];
            const double* wr = ws.row.w.data() + i * p_r;
            const double* wc = ws.col.w.data() + i * p_c;
            const double* yi = ws.centred.data() + i * dims;
            const double q1 = yi[0], q2 = dims == 2 ? yi[1] : 0.0;
            for (size_t a = 0; a < p_r; ++a) {
                const size_t base = (ws.row.first[i] + a) * cols + ws.col.first[i];
                for (size_t c = 0; c < p_c; ++c) {
                    const double v = wr[a] * wc[c];
                    charge[0][base + c] += v;
                    charge[1][base + c] += v * q1;
                    if (dims == 2) charge[2][base + c] += v * q2;
                }
            }
        }
    });
    // The padding rows (ar.nodes .. rows) are zero; the padding columns of the node rows too.
    // (Node rows were filled whole above, so only the lower half remains.)
    parallel_for(n_charges, threads,
                 [&](size_t q) { std::fill(charge[q] + ar.nodes * cols, charge[q] + grid, 0.0); });

    // 3. Kernels on the padded grid (lag index k stands for min(k, fft − k) node spacings), and
    //    all five forward transforms.
    std::array<double*, 2> kernel{};
    for (size_t k = 0; k < 2; ++k) kernel[k] = ws.kernel_grid[k].get(grid);
    std::array<fftw_complex*, 3> spec{};
    for (size_t q = 0; q < n_charges; ++q) spec[q] = ws.spectrum[q].get(spectrum);
    std::array<fftw_complex*, 2> kspec{};
    for (size_t k = 0; k < 2; ++k) kspec[k] = ws.kernel_spectrum[k].get(spectrum);
    parallel_for(2 + n_charges, threads, [&](size_t task) {
        if (task < 2) {
            for (size_t r = 0; r < rows; ++r) {
                const double dr = static_cast<double>(std::min(r, rows - r)) * ar.spacing;
                double* out = kernel[task] + r * cols;
                for (size_t c = 0; c < cols; ++c) {
                    const double dc = static_cast<double>(std::min(c, cols - c)) * ac.spacing;
                    const double w = 1.0 / (1.0 + dr * dr + dc * dc);
                    out[c] = task == 0 ? w : w * w;
                }
            }
            fftw_execute_dft_r2c(plans.forward, kernel[task], kspec[task]);
        } else {
            const size_t q = task - 2;
            fftw_execute_dft_r2c(plans.forward, charge[q], spec[q]);
        }
    });

    // 4. Products and inverse transforms: potential 0 = w ∗ 1, 1 = w² ∗ 1, 2 + d = w² ∗ y_d.
    //    The kernels are real and even, so their spectra are real: only the real part is used.
    const double scale = 1.0 / static_cast<double>(grid);
    std::array<double*, 4> potential{};
    for (size_t o = 0; o < n_potentials; ++o) potential[o] = ws.potential[o].get(grid);
    parallel_for(n_potentials, threads, [&](size_t o) {
        const fftw_complex* s = spec[o < 2 ? 0 : o - 1];
        const fftw_complex* k = kspec[o == 0 ? 0 : 1];
        fftw_complex* prod = ws.product[o].get(spectrum);
        for (size_t m = 0; m < spectrum; ++m) {
            const double kr = k[m][0] * scale;
            prod[m][0] = s[m][0] * kr;
            prod[m][1] = s[m][1] * kr;
        }
        fftw_execute_dft_c2r(plans.inverse, prod, potential[o]);
    });

    // 5. Interpolate back and assemble r_i and Z.
    const size_t chunks = chunk_count(n, kPointChunk);
    std::vector<double> z_chunk(chunks, 0.0);
    parallel_for(chunks, threads, [&](size_t chunk) {
        double z = 0;
        for (size_t i = chunk * kPointChunk; i < std::min(n, (chunk + 1) * kPointChunk); ++i) {
            const double* wr = ws.row.w.data() + i * p_r;
            const double* wc = ws.col.w.data() + i * p_c;
            std::array<double, 4> v{};
            for (size_t a = 0; a < p_r; ++a) {
                const size_t base = (ws.row.first[i] + a) * cols + ws.col.first[i];
                for (size_t c = 0; c < p_c; ++c) {
                    const double wv = wr[a] * wc[c];
                    for (size_t o = 0; o < n_potentials; ++o) v[o] += wv * potential[o][base + c];
                }
            }
            z += v[0];
            const double* yi = ws.centred.data() + i * dims;
            for (size_t d = 0; d < dims; ++d) rep[i * dims + d] = yi[d] * v[1] - v[2 + d];
        }
        z_chunk[chunk] = z;
    });
    double z = 0;
    for (double v : z_chunk) z += v;
    return z - static_cast<double>(n);
}

}  // namespace promptlens::detail
