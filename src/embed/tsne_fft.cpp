// FFT-accelerated interpolation of the t-SNE repulsion (FIt-SNE: Linderman, Rachh, Hoskins,
// Steinerberger & Kluger, Nature Methods 2019), for 1-D and 2-D embeddings.
//
// The embedding's bounding box is cut into `boxes` equal intervals per dimension (FIt-SNE's rule:
// max(min_intervals, ceil(extent / interval_width_max))), each holding p = interpolation_points
// Lagrange nodes at (k + ½)/p of the interval (FIt-SNE's placement), so the nodes form one
// equispaced grid of n = p·boxes per dimension. Then
//   1. spread: every point's charges q ∈ {1, y_i1, y_i2} go onto the p×p nodes of its cell, times
//      the Lagrange weights of its position (the adjoint of interpolation);
//   2. convolve: the node charges are convolved with the kernel w² = 1/(1+d²)² sampled on the
//      grid, as a circulant product on a grid padded to F ≥ 2n − 1 per dimension (FFTW, double);
//   3. interpolate: every point reads the convolved values back with the same weights.
// This gives per point T_i = Σ_j w_ij² and U_i = Σ_j w_ij² y_j (sums include j = i, w_ii = 1), so
//   r_i = Σ_j w_ij² (y_i − y_j) = y_i T_i − U_i,
//   Z + N = Σ_ij w_ij = Σ_ij w_ij² (1 + ‖y_i − y_j‖²) = Σ_i T_i + 2 Σ_i y_i·r_i
// (the last step symmetrises Σ_ij w_ij² y_i·(y_i − y_j)). FIt-SNE reaches the same Z with a
// fourth charge |y_j|²; the identity needs no extra convolution, and its Z errors measured the
// same size (1e-4 to 1e-3 relative on the default grid). Coordinates are centred on the box first
// so y_i T_i − U_i cancels least.
//
// The padded transforms skip the zero padding: a forward transform is row FFTs of the n nonzero
// rows only, then column FFTs; an inverse one is column FFTs, then row FFTs of the n rows that are
// read back; the kernel, even in both axes, needs row FFTs of half its rows. Tasks for
// `parallel_for`: row FFTs in blocks of 32 rows; column FFT, product and inverse column FFT fused
// per block of 16 columns (the block stays in cache). Each task runs single-threaded FFTW; plans
// are made under a mutex and cached by shape (executing a plan on new arrays is thread-safe).
//
// Determinism: points are counting-sorted by cell (row-major, stable); a box row of cells is one
// spreading task, every cell sums its points in input order and writes its own p×p nodes, so no
// two tasks touch the same memory. Interpolation runs over fixed chunks of the cell order and Z is
// summed chunk by chunk in chunk order: the same bytes for every thread count. Buffers live in a
// per-thread workspace reused across calls (a 600×600 padded grid is ~20 MB over all planes;
// allocating it every call costs page faults every iteration).
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

constexpr size_t kPointChunk = 4096;          // points per interpolation chunk (fixed)
constexpr size_t kMaxGrid = size_t{1} << 26;  // padded grid values per plane (512 MB of doubles)
constexpr size_t kMaxCharges = 3;             // 1, y_1, y_2
// Complex columns per fused column task. A multiple of 4 (64 bytes), so every block starts with
// the alignment the plans were made with.
constexpr size_t kColumnBlock = 16;
// Rows per row-transform task. A multiple of 4 for the same reason (a complex row may be an odd
// number of 16-byte values long).
constexpr size_t kRowBlock = 32;

// FFTW-aligned buffer (every plane is its own allocation, so all share FFTW's alignment and the
// cached plans may execute on any of them). Grows, never shrinks.
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

// The plans of a padded rows×cols grid (half = cols/2 + 1 complex columns):
//  * rows_forward(k): r2c of k consecutive rows (real row stride cols → complex row stride half);
//  * rows_inverse(k): c2r of k consecutive rows;
//  * cols_forward(k) / cols_inverse(k): in-place complex FFTs down k consecutive columns.
enum class PlanKind { rows_forward, rows_inverse, cols_forward, cols_inverse };

struct PlanCache {
    std::mutex mutex;
    std::map<std::tuple<PlanKind, size_t, size_t, size_t>, fftw_plan> plans;
    ~PlanCache() {
        for (auto& entry : plans) fftw_destroy_plan(entry.second);
    }
};

fftw_plan plan_for(PlanKind kind, size_t rows, size_t cols, size_t count) {
    static PlanCache cache;  // for the process lifetime; FFTW's planner is not thread-safe
    std::lock_guard lock(cache.mutex);
    const auto key = std::tuple{kind, rows, cols, count};
    if (auto it = cache.plans.find(key); it != cache.plans.end()) return it->second;
    const size_t half = cols / 2 + 1;
    double* real = fftw_alloc_real(rows * cols);
    fftw_complex* cplx = fftw_alloc_complex(rows * half);
    require(real != nullptr && cplx != nullptr, "t-SNE FFT: cannot allocate a {}×{} grid", rows,
            cols);
    const int c = static_cast<int>(cols), r = static_cast<int>(rows), h = static_cast<int>(half);
    const int k = static_cast<int>(count);
    fftw_plan plan = nullptr;
    switch (kind) {
        case PlanKind::rows_forward:
            plan = fftw_plan_many_dft_r2c(1, &c, k, real, nullptr, 1, c, cplx, nullptr, 1, h,
                                          FFTW_ESTIMATE);
            break;
        case PlanKind::rows_inverse:
            plan = fftw_plan_many_dft_c2r(1, &c, k, cplx, nullptr, 1, h, real, nullptr, 1, c,
                                          FFTW_ESTIMATE);
            break;
        case PlanKind::cols_forward:
        case PlanKind::cols_inverse:
            plan = fftw_plan_many_dft(1, &r, k, cplx, nullptr, h, 1, cplx, nullptr, h, 1,
                                      kind == PlanKind::cols_forward ? FFTW_FORWARD : FFTW_BACKWARD,
                                      FFTW_ESTIMATE);
            break;
    }
    fftw_free(real);
    fftw_free(cplx);
    require(plan != nullptr, "t-SNE FFT: FFTW could not plan a {}×{} transform", rows, cols);
    cache.plans.emplace(key, plan);
    return plan;
}

// `total` rows cut into tasks of kRowBlock rows (the last may be shorter), with their plans.
struct RowTasks {
    size_t count;
    std::array<fftw_plan, 2> plans;  // full block, last block
    RowTasks(size_t rows, size_t cols, size_t total, PlanKind kind)
        : count(chunk_count(total, kRowBlock)),
          plans{plan_for(kind, rows, cols, std::min(total, kRowBlock)),
                plan_for(kind, rows, cols, total - (count - 1) * kRowBlock)} {}
    fftw_plan plan(size_t block) const { return plans[block + 1 == count ? 1 : 0]; }
};

// Smallest even 2^a 3^b 5^c 7^d >= n. FFTW's estimated plans are fast for these; odd lengths
// (625, 675) make its real transforms 3-5x slower per point.
size_t fft_size_at_least(size_t n) {
    for (size_t m = std::max<size_t>(n + (n % 2), 2);; m += 2) {
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
    size_t fft = 1;    // padded length ≥ 2·nodes − 1
    double lo = 0;     // lower edge of the box (centred coordinates)
    double box_width = 1;
    double spacing = 0;  // distance between neighbouring nodes
    bool missing = true;

    // The box of centred coordinate x, and x's position inside it in [0, 1] (u).
    uint32_t box_of(double x, double& u) const {
        if (missing) {
            u = 0;
            return 0;
        }
        const double t = (x - lo) / box_width;
        const double box = std::clamp(std::floor(t), 0.0, static_cast<double>(boxes - 1));
        u = t - box;
        return static_cast<uint32_t>(box);
    }
};

Axis make_axis(double lo, double hi, const TsneRepulsionOptions& options) {
    double extent = hi - lo;
    // A zero extent (all points equal) still needs a positive box.
    const double floor = 1e-12 * std::max({1.0, std::fabs(lo), std::fabs(hi)});
    if (!(extent > floor)) {
        lo = 0.5 * (lo + hi) - 0.5 * floor;
        extent = floor;
    }
    const double wanted = std::ceil(extent / options.interval_width_max);
    require(wanted < 1e6,
            "t-SNE FFT: the embedding spans {} units, {} intervals of at most {} per dimension are "
            "too many; raise interval_width_max",
            extent, wanted, options.interval_width_max);
    Axis a;
    a.boxes = std::max(static_cast<size_t>(options.min_intervals), static_cast<size_t>(wanted));
    a.p = static_cast<size_t>(options.interpolation_points);
    a.nodes = a.p * a.boxes;
    a.fft = fft_size_at_least(2 * a.nodes - 1);
    a.lo = lo;
    a.box_width = extent / static_cast<double>(a.boxes);
    a.spacing = a.box_width / static_cast<double>(a.p);
    a.missing = false;
    return a;
}

// Per point (in cell order) and axis: its box and its p Lagrange weights.
struct AxisWeights {
    std::vector<uint32_t> box;  // n
    std::vector<double> w;      // n×p
};

void lagrange_weights(const Axis& a, const double* y, size_t stride, size_t n, AxisWeights& out) {
    out.box.resize(n);
    out.w.resize(n * a.p);
    if (a.missing) {
        std::fill(out.box.begin(), out.box.end(), 0);
        std::fill(out.w.begin(), out.w.end(), 1.0);
        return;
    }
    const size_t p = a.p;
    std::array<double, 64> node{}, inv_denominator{};
    for (size_t k = 0; k < p; ++k)
        node[k] = (static_cast<double>(k) + 0.5) / static_cast<double>(p);
    for (size_t k = 0; k < p; ++k) {
        double d = 1;
        for (size_t m = 0; m < p; ++m)
            if (m != k) d *= node[k] - node[m];
        inv_denominator[k] = 1.0 / d;
    }
    for (size_t i = 0; i < n; ++i) {
        double u = 0;
        out.box[i] = a.box_of(y[i * stride], u);
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
    std::vector<double> unsorted;              // n×dims, centred coordinates in input order
    std::vector<uint32_t> cell;                // n, each point's cell (row-major over boxes)
    std::vector<uint32_t> cell_start, sorted;  // sorted[k]: the point at cell order k
    // Everything below is in cell order: a cell's points are contiguous, so spreading and
    // interpolation read memory sequentially.
    std::vector<double> centred;  // n×dims
    AxisWeights row, col;
    std::vector<double> rep;  // n×dims
    std::vector<double> z_chunk;
    std::array<FftwBuffer<double>, kMaxCharges> charges;  // node charges, nodes_r × fft_c
    FftwBuffer<double> kernel;                            // kernel rows, (fft_r/2 + 1) × fft_c
    std::vector<double> kernel_dc2;                       // 1 + (column lag)², fft_c
    std::array<FftwBuffer<fftw_complex>, kMaxCharges + 1> spectrum;  // charges', then kernel's
    std::array<FftwBuffer<double>, kMaxCharges> potential;           // nodes_r × fft_c
};

// The per-point loops below are templates on the node counts per axis (PR, PC; 0 = read at run
// time) and on the dimension, so the default layouts (3 nodes: 3×3 in 2-D, 1×3 in 1-D) compile
// to fixed-size, fully unrolled loops. `dispatch` picks the instance.
template <class F>
void dispatch(size_t p_r, size_t p_c, size_t dims, F&& f) {
    if (dims == 2 && p_r == 3 && p_c == 3) {
        f.template operator()<3, 3, 2>();
    } else if (dims == 1 && p_r == 1 && p_c == 3) {
        f.template operator()<1, 3, 1>();
    } else if (dims == 2) {
        f.template operator()<0, 0, 2>();
    } else {
        f.template operator()<0, 0, 1>();
    }
}

// Spreads the charges of the points in box row b onto its p_r node rows (each cell sums its
// points in index order, then writes its own p_r×p_c nodes).
template <size_t PR, size_t PC, size_t DIMS>
void spread_box_row(size_t b, const Workspace& ws, const Axis& ar, const Axis& ac,
                    const std::array<double*, kMaxCharges>& charge) {
    constexpr size_t kCharges = DIMS + 1;
    const size_t p_r = PR ? PR : ar.p, p_c = PC ? PC : ac.p, cols = ac.fft;
    constexpr size_t kFixed = PR * PC * kCharges;  // 0: sized at run time
    std::array<double, kFixed> fixed_acc;
    std::vector<double> runtime_acc(kFixed ? 0 : kCharges * p_r * p_c);
    double* acc = kFixed ? fixed_acc.data() : runtime_acc.data();  // acc[(s·p_r + a)·p_c + c]
    for (size_t cb = 0; cb < ac.boxes; ++cb) {
        const size_t cell = b * ac.boxes + cb;
        std::fill_n(acc, kCharges * p_r * p_c, 0.0);
        for (size_t i = ws.cell_start[cell]; i < ws.cell_start[cell + 1]; ++i) {
            const double* wr = ws.row.w.data() + i * p_r;
            const double* wc = ws.col.w.data() + i * p_c;
            const double* yi = ws.centred.data() + i * DIMS;
            std::array<double, kCharges> q;
            q[0] = 1.0;
            for (size_t d = 0; d < DIMS; ++d) q[1 + d] = yi[d];
            for (size_t a = 0; a < p_r; ++a)
                for (size_t c = 0; c < p_c; ++c) {
                    const double v = wr[a] * wc[c];
                    for (size_t s = 0; s < kCharges; ++s) acc[(s * p_r + a) * p_c + c] += v * q[s];
                }
        }
        for (size_t s = 0; s < kCharges; ++s)
            for (size_t a = 0; a < p_r; ++a)
                std::copy_n(acc + (s * p_r + a) * p_c, p_c,
                            charge[s] + (b * p_r + a) * cols + cb * p_c);
    }
    for (size_t s = 0; s < kCharges; ++s)  // zero padding right of the nodes
        for (size_t a = 0; a < p_r; ++a)
            std::fill(charge[s] + (b * p_r + a) * cols + ac.nodes,
                      charge[s] + (b * p_r + a + 1) * cols, 0.0);
}

// Interpolates the potentials back to points [begin, end) (cell order), writes their r_i (cell
// order) and returns their
// share of Z + N: Σ_i (T_i + 2 y_i·r_i).
template <size_t PR, size_t PC, size_t DIMS>
double interpolate_points(size_t begin, size_t end, const Workspace& ws, const Axis& ar,
                          const Axis& ac, const std::array<double*, kMaxCharges>& potential,
                          double* rep) {
    constexpr size_t kCharges = DIMS + 1;
    const size_t p_r = PR ? PR : ar.p, p_c = PC ? PC : ac.p, cols = ac.fft;
    double z = 0;
    for (size_t i = begin; i < end; ++i) {
        const double* wr = ws.row.w.data() + i * p_r;
        const double* wc = ws.col.w.data() + i * p_c;
        const size_t r0 = ws.row.box[i] * p_r, c0 = ws.col.box[i] * p_c;
        std::array<double, kCharges> v{};
        for (size_t a = 0; a < p_r; ++a) {
            const size_t base = (r0 + a) * cols + c0;
            for (size_t c = 0; c < p_c; ++c) {
                const double wv = wr[a] * wc[c];
                for (size_t s = 0; s < kCharges; ++s) v[s] += wv * potential[s][base + c];
            }
        }
        const double* yi = ws.centred.data() + i * DIMS;
        double y_dot_r = 0;
        for (size_t d = 0; d < DIMS; ++d) {
            const double r = yi[d] * v[0] - v[1 + d];
            rep[i * DIMS + d] = r;
            y_dot_r += yi[d] * r;
        }
        z += v[0] + 2 * y_dot_r;
    }
    return z;
}

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
    const int threads = options.threads;

    // Centre every dimension on its bounding box. Grid axes: rows = dim 0 and cols = dim 1 for
    // 2-D; a missing row axis and cols = dim 0 for 1-D.
    ws.unsorted.resize(n * dims);
    std::array<Axis, 2> axis{};
    for (size_t d = 0; d < dims; ++d) {
        double lo = y[d], hi = y[d];
        for (size_t i = 0; i < n; ++i) {
            lo = std::min(lo, y[i * dims + d]);
            hi = std::max(hi, y[i * dims + d]);
        }
        const double centre = 0.5 * (lo + hi);
        for (size_t i = 0; i < n; ++i) ws.unsorted[i * dims + d] = y[i * dims + d] - centre;
        axis[2 - dims + d] = make_axis(lo - centre, hi - centre, options);
    }
    const Axis& ar = axis[0];
    const Axis& ac = axis[1];
    const size_t rows = ar.fft, cols = ac.fft, half = cols / 2 + 1;
    require(rows * cols <= kMaxGrid,
            "t-SNE FFT: a {}×{} grid is too large (max {} values); raise interval_width_max", rows,
            cols, kMaxGrid);
    const size_t n_charges = 1 + dims;
    const size_t node_rows = ar.nodes;        // rows that hold charges and potentials
    const size_t kernel_rows = rows / 2 + 1;  // distinct kernel rows (even in the row axis)

    // 1. Points counting-sorted by cell (stable: input order within a cell), then their centred
    //    coordinates and Lagrange weights in that order.
    const size_t cells = ar.boxes * ac.boxes;
    ws.cell.resize(n);
    ws.cell_start.assign(cells + 1, 0);
    for (size_t i = 0; i < n; ++i) {
        double u = 0;
        const uint32_t row = dims == 2 ? ar.box_of(ws.unsorted[i * dims], u) : 0;
        const uint32_t col = ac.box_of(ws.unsorted[i * dims + dims - 1], u);
        ws.cell[i] = row * static_cast<uint32_t>(ac.boxes) + col;
        ++ws.cell_start[ws.cell[i] + 1];
    }
    for (size_t c = 0; c < cells; ++c) ws.cell_start[c + 1] += ws.cell_start[c];
    ws.sorted.resize(n);
    ws.centred.resize(n * dims);
    {
        std::vector<uint32_t> fill(ws.cell_start.begin(), ws.cell_start.end() - 1);
        for (size_t i = 0; i < n; ++i) {
            const uint32_t k = fill[ws.cell[i]]++;
            ws.sorted[k] = static_cast<uint32_t>(i);
            std::copy_n(ws.unsorted.data() + i * dims, dims, ws.centred.data() + k * dims);
        }
    }
    lagrange_weights(ar, dims == 2 ? ws.centred.data() : nullptr, dims, n, ws.row);
    lagrange_weights(ac, ws.centred.data() + (dims - 1), dims, n, ws.col);

    // 2. Spread the charges, one box row per task.
    std::array<double*, kMaxCharges> charge{};
    for (size_t s = 0; s < n_charges; ++s) charge[s] = ws.charges[s].get(node_rows * cols);
    dispatch(ar.p, ac.p, dims, [&]<size_t PR, size_t PC, size_t DIMS>() {
        parallel_for(ar.boxes, threads,
                     [&](size_t b) { spread_box_row<PR, PC, DIMS>(b, ws, ar, ac, charge); });
    });

    // 3. Row transforms in tasks of kRowBlock rows: the charges' n nonzero rows (the rest of the
    //    padded grid is zero), and the kernel w² at lag index k = min(k, F − k) node spacings,
    //    whose rows k and F − k are equal (only the first F/2 + 1 are transformed; step 4 mirrors
    //    the rest).
    std::array<fftw_complex*, kMaxCharges + 1> spec{};
    for (size_t s = 0; s <= n_charges; ++s) spec[s] = ws.spectrum[s].get(rows * half);
    fftw_complex* kspec = spec[n_charges];
    double* kernel = ws.kernel.get(kernel_rows * cols);
    ws.kernel_dc2.resize(cols);
    for (size_t c = 0; c < cols; ++c) {
        const double dc = static_cast<double>(std::min(c, cols - c)) * ac.spacing;
        ws.kernel_dc2[c] = 1.0 + dc * dc;
    }
    const RowTasks charge_tasks(rows, cols, node_rows, PlanKind::rows_forward);
    const RowTasks kernel_tasks(rows, cols, kernel_rows, PlanKind::rows_forward);
    parallel_for(n_charges * charge_tasks.count + kernel_tasks.count, threads, [&](size_t task) {
        if (task < n_charges * charge_tasks.count) {
            const size_t s = task / charge_tasks.count, block = task % charge_tasks.count;
            const size_t r0 = block * kRowBlock;
            fftw_execute_dft_r2c(charge_tasks.plan(block), charge[s] + r0 * cols,
                                 spec[s] + r0 * half);
            return;
        }
        const size_t block = task - n_charges * charge_tasks.count, r0 = block * kRowBlock;
        for (size_t r = r0; r < std::min(kernel_rows, r0 + kRowBlock); ++r) {
            const double dr = static_cast<double>(r) * ar.spacing;
            double* out = kernel + r * cols;
            for (size_t c = 0; c < cols; ++c) {
                const double w = 1.0 / (ws.kernel_dc2[c] + dr * dr);
                out[c] = w * w;
            }
        }
        fftw_execute_dft_r2c(kernel_tasks.plan(block), kernel + r0 * cols, kspec + r0 * half);
    });

    // 4. Column transforms fused per block of columns, so a block stays in cache from the forward
    //    transform through the product to the inverse: kernel column FFTs, then per charge plane
    //    column FFT, product with the kernel's spectrum (real: the kernel is even, and scaled by
    //    1/(rows·cols) for FFTW's unnormalised inverse), inverse column FFT. Blocks are tasks.
    const double scale = 1.0 / static_cast<double>(rows * cols);
    const bool have_cols = rows > 1;
    const size_t blocks = chunk_count(half, kColumnBlock);
    const size_t last_width = half - (blocks - 1) * kColumnBlock;
    auto column_plan = [&](PlanKind kind, size_t width) {
        return have_cols ? plan_for(kind, rows, cols, width) : nullptr;
    };
    const std::array<fftw_plan, 2> col_forward{column_plan(PlanKind::cols_forward, kColumnBlock),
                                               column_plan(PlanKind::cols_forward, last_width)};
    const std::array<fftw_plan, 2> col_inverse{column_plan(PlanKind::cols_inverse, kColumnBlock),
                                               column_plan(PlanKind::cols_inverse, last_width)};
    parallel_for(blocks, threads, [&](size_t block) {
        const size_t c0 = block * kColumnBlock;
        const bool last = block + 1 == blocks;
        const size_t width = last ? last_width : kColumnBlock;
        auto at = [&](fftw_complex* plane, size_t r) { return plane + r * half + c0; };
        auto flat = [&](fftw_complex* plane, size_t r) {
            return reinterpret_cast<double*>(at(plane, r));  // fftw_complex is double[2]
        };
        for (size_t r = kernel_rows; r < rows; ++r)
            std::copy_n(flat(kspec, rows - r), 2 * width, flat(kspec, r));
        if (have_cols) fftw_execute_dft(col_forward[last], at(kspec, 0), at(kspec, 0));
        for (size_t s = 0; s < n_charges; ++s) {
            for (size_t r = node_rows; r < rows; ++r) std::fill_n(flat(spec[s], r), 2 * width, 0.0);
            if (have_cols) fftw_execute_dft(col_forward[last], at(spec[s], 0), at(spec[s], 0));
            for (size_t r = 0; r < rows; ++r) {
                double* z = flat(spec[s], r);
                const double* k = flat(kspec, r);
                for (size_t c = 0; c < width; ++c) {
                    const double kc = k[2 * c] * scale;
                    z[2 * c] *= kc;
                    z[2 * c + 1] *= kc;
                }
            }
            if (have_cols) fftw_execute_dft(col_inverse[last], at(spec[s], 0), at(spec[s], 0));
        }
    });

    // 5. Inverse row transforms of the node rows only (the others are never read), in tasks of
    //    kRowBlock rows. Potential 0 = w² ∗ 1 (T), 1 + d = w² ∗ y_d (U_d).
    std::array<double*, kMaxCharges> potential{};
    for (size_t s = 0; s < n_charges; ++s) potential[s] = ws.potential[s].get(node_rows * cols);
    const RowTasks potential_tasks(rows, cols, node_rows, PlanKind::rows_inverse);
    parallel_for(n_charges * potential_tasks.count, threads, [&](size_t task) {
        const size_t s = task / potential_tasks.count, block = task % potential_tasks.count;
        const size_t r0 = block * kRowBlock;
        fftw_execute_dft_c2r(potential_tasks.plan(block), spec[s] + r0 * half,
                             potential[s] + r0 * cols);
    });

    // 6. Interpolate back; r_i = y_i T_i − U_i and Z + N = Σ_i (T_i + 2 y_i·r_i).
    const size_t chunks = chunk_count(n, kPointChunk);
    ws.z_chunk.assign(chunks, 0.0);
    ws.rep.resize(n * dims);
    dispatch(ar.p, ac.p, dims, [&]<size_t PR, size_t PC, size_t DIMS>() {
        parallel_for(chunks, threads, [&](size_t chunk) {
            const size_t begin = chunk * kPointChunk, end = std::min(n, begin + kPointChunk);
            ws.z_chunk[chunk] =
                interpolate_points<PR, PC, DIMS>(begin, end, ws, ar, ac, potential, ws.rep.data());
            for (size_t k = begin; k < end; ++k)  // back to input order
                std::copy_n(ws.rep.data() + k * DIMS, DIMS, rep.data() + ws.sorted[k] * DIMS);
        });
    });
    double z = 0;
    for (double v : ws.z_chunk) z += v;
    return z - static_cast<double>(n);
}

}  // namespace promptlens::detail
