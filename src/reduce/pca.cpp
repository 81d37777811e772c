#include "reduce/pca.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "linalg/block_krylov.hpp"
#include "linalg/eigen.hpp"
#include "linalg/gemm.hpp"
#include "linalg/randomized_svd.hpp"

namespace promptlens {

const char* to_string(PcaSolver solver) {
    switch (solver) {
        case PcaSolver::automatic:
            return "automatic";
        case PcaSolver::exact:
            return "exact";
        case PcaSolver::randomized:
            return "randomized";
    }
    return "?";
}

const char* to_string(PcaExactMethod method) {
    switch (method) {
        case PcaExactMethod::automatic:
            return "automatic";
        case PcaExactMethod::covariance:
            return "covariance";
        case PcaExactMethod::implicit:
            return "implicit";
    }
    return "?";
}

namespace {

// Row blocks: up to 1024 rows, fewer for wide data so a centred block (rows × d floats) stays
// within ~32 MB of scratch per thread. Depends on d only, so results do not depend on threads.
size_t block_rows(size_t d) {
    constexpr size_t kScratchFloats = size_t{8} << 20;
    size_t rows = kScratchFloats / std::max<size_t>(d, 1) / 16 * 16;
    return std::clamp<size_t>(rows, 16, 1024);
}

struct Blocks {
    size_t n = 0, size = 0, count = 0;
    Blocks(size_t n_, size_t size_) : n(n_), size(size_), count(chunk_count(n_, size_)) {}
    size_t begin(size_t b) const { return b * size; }
    size_t end(size_t b) const { return std::min(n, (b + 1) * size); }
};

// Partial sums that are too big to keep one per block (d×d covariances, d×r products) are kept
// one per group of consecutive blocks: at most 16 groups and 256 MB of float partials. The group
// count depends on the problem only; groups are summed in order in double.
size_t group_count(size_t blocks, size_t partial_floats) {
    constexpr size_t kBudgetFloats = size_t{64} << 20;
    size_t by_memory = std::max<size_t>(1, kBudgetFloats / std::max<size_t>(partial_floats, 1));
    return std::max<size_t>(1, std::min({blocks, size_t{16}, by_memory}));
}
size_t group_begin(size_t g, size_t groups, size_t blocks) {
    return g * blocks / groups;
}

// Scratch blocks handed to concurrently running tasks and reused across tasks and passes (a
// 1024×768 or 160×50,257 block is 3–32 MB; allocating one per task and pass costs page faults).
// Contents never carry over, so which buffer a task gets does not affect results.
class ScratchPool {
  public:
    ScratchPool(size_t rows, size_t cols) : rows_(rows), cols_(cols) {}
    class Lease {
      public:
        Lease(ScratchPool& pool, std::unique_ptr<float[]> buf)
            : pool_(pool), buf_(std::move(buf)) {}
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease() { pool_.give_back(std::move(buf_)); }
        MatView view(size_t rows) const { return {buf_.get(), rows, pool_.cols_}; }

      private:
        ScratchPool& pool_;
        std::unique_ptr<float[]> buf_;
    };
    Lease take() {
        std::lock_guard lock(mutex_);
        if (free_.empty()) return {*this, std::make_unique_for_overwrite<float[]>(rows_ * cols_)};
        std::unique_ptr<float[]> b = std::move(free_.back());
        free_.pop_back();
        return {*this, std::move(b)};
    }

  private:
    void give_back(std::unique_ptr<float[]> b) {
        std::lock_guard lock(mutex_);
        free_.push_back(std::move(b));
    }
    size_t rows_, cols_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<float[]>> free_;
};

// out (rows × d) = x rows [r0, r0+rows) minus the mean.
void centre_rows(ConstMatView x, const std::vector<float>& mean, size_t r0, MatView out) {
    const size_t d = x.cols();
    for (size_t i = 0; i < out.rows(); ++i) {
        const float* src = x.row(r0 + i).data();
        float* dst = out.row(i).data();
        for (size_t j = 0; j < d; ++j) dst[j] = src[j] - mean[j];
    }
}

void validate(ConstMatView x, size_t k) {
    const size_t n = x.rows(), d = x.cols();
    require(n >= 2, "PCA: {} row(s); need at least 2 rows to estimate variances (ddof = 1)", n);
    require(d >= 1, "PCA: the input has no columns");
    require(k >= 1 && k <= std::min(n, d),
            "PCA: {} components requested but the input is {} rows x {} columns; need 1 <= k <= "
            "min(n, d) = {}",
            k, n, d, std::min(n, d));
}

bool has_avx2_fma() {
    static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return yes;
}

// acc[j] += r[j] and, when sq is given, sq[j] += (r[j] − s[j])², in double, for one row of d.
// The AVX2 version adds in the same order per column, so acc gets the same bits either way.
__attribute__((target("avx2,fma"))) void row_moments_avx2(const float* r, const float* s,
                                                          double* acc, double* sq, size_t d) {
    size_t j = 0;
    for (; j + 4 <= d; j += 4) {
        const __m256d x = _mm256_cvtps_pd(_mm_loadu_ps(r + j));
        _mm256_storeu_pd(acc + j, _mm256_add_pd(_mm256_loadu_pd(acc + j), x));
        const __m256d e = _mm256_sub_pd(x, _mm256_cvtps_pd(_mm_loadu_ps(s + j)));
        _mm256_storeu_pd(sq + j, _mm256_fmadd_pd(e, e, _mm256_loadu_pd(sq + j)));
    }
    for (; j < d; ++j) {
        acc[j] += r[j];
        const double e = static_cast<double>(r[j]) - s[j];
        sq[j] = std::fma(e, e, sq[j]);
    }
}

// Column means in double over row blocks (partials combined in block order); rejects NaN/inf.
// With total_ss, also Σ_ij (x_ij − mean_j)² in double from the same pass, as the shifted one-pass
// form Σ(x − s)² − (Σx − n·s)²/n with s = row 0 (x − s exact in double; the shift keeps the
// cancellation at the scale of the spread, not of the offsets), so the implicit method needs no
// extra read of X for the total variance.
std::vector<float> column_mean(ConstMatView x, int threads, double* total_ss = nullptr,
                               std::vector<double>* column_ss = nullptr) {
    const size_t n = x.rows(), d = x.cols();
    Blocks blocks(n, 1024);
    std::vector<double> partial(blocks.count * d, 0.0);
    std::vector<double> partial_sq(total_ss != nullptr ? blocks.count * d : 0, 0.0);
    const float* shift = x.row(0).data();
    parallel_for(blocks.count, threads, [&](size_t b) {
        double* acc = &partial[b * d];
        for (size_t i = blocks.begin(b); i < blocks.end(b); ++i) {
            const float* r = x.row(i).data();
            if (total_ss == nullptr) {
                for (size_t j = 0; j < d; ++j) acc[j] += r[j];
            } else if (has_avx2_fma()) {
                row_moments_avx2(r, shift, acc, &partial_sq[b * d], d);
            } else {
                double* sq = &partial_sq[b * d];
                for (size_t j = 0; j < d; ++j) {
                    acc[j] += r[j];
                    const double e = static_cast<double>(r[j]) - shift[j];
                    sq[j] = std::fma(e, e, sq[j]);
                }
            }
        }
    });
    std::vector<double> sum(d, 0.0);
    for (size_t b = 0; b < blocks.count; ++b)
        for (size_t j = 0; j < d; ++j) sum[j] += partial[b * d + j];
    std::vector<float> mean(d);
    for (size_t j = 0; j < d; ++j) {
        if (!std::isfinite(sum[j])) {
            for (size_t i = 0; i < n; ++i)
                require(std::isfinite(x(i, j)), "PCA: non-finite value {} at row {}, column {}",
                        x(i, j), i, j);
            fail("PCA: column {} sums to {} (values too large for float)", j, sum[j]);
        }
        mean[j] = static_cast<float>(sum[j] / static_cast<double>(n));
    }
    if (total_ss != nullptr) {
        *total_ss = 0;
        const double nd = static_cast<double>(n);
        for (size_t j = 0; j < d; ++j) {
            double sq = 0;
            for (size_t b = 0; b < blocks.count; ++b) sq += partial_sq[b * d + j];
            const double e = sum[j] - nd * shift[j];
            const double ss = std::max(0.0, sq - e * e / nd);
            *total_ss += ss;
            if (column_ss != nullptr) column_ss->push_back(ss);
        }
    }
    return mean;
}

// Σ over blocks of B_bᵀ·B_b (dim×dim) where fill(b, scratch) writes block b (its rows × dim) into
// scratch. Float SYRK (upper triangle) per block into at most 8 per-group float accumulators
// (fewer, larger groups keep allocation and the final sum cheap), groups summed in double.
template <class Fill>
MatrixD blocked_gram(size_t n_blocks, size_t block_size, size_t dim, int threads,
                     const Fill& fill) {
    const size_t groups = std::min<size_t>(group_count(n_blocks, dim * dim), 8);
    std::vector<Matrix> acc(groups);
    ScratchPool pool(block_size, dim);
    parallel_for(groups, threads, [&](size_t g) {
        acc[g] = Matrix(dim, dim);
        auto scratch = pool.take();
        for (size_t b = group_begin(g, groups, n_blocks); b < group_begin(g + 1, groups, n_blocks);
             ++b) {
            MatView s = fill(b, scratch);
            syrk_upper_accumulate(s, acc[g]);
        }
    });
    MatrixD out(dim, dim);
    for (size_t g = 0; g < groups; ++g)
        for (size_t i = 0; i < dim; ++i)
            for (size_t j = i; j < dim; ++j) out(i, j) += acc[g](i, j);
    for (size_t i = 0; i < dim; ++i)
        for (size_t j = 0; j < i; ++j) out(i, j) = out(j, i);
    return out;
}

// Scores (n×k) = (x − mean)·componentsᵀ, per row block. When `norms`/`argmax` are given they
// receive, per component, Σ score² (double) and the row of the first entry of largest |score|.
Matrix project(ConstMatView x, const std::vector<float>& mean, const Matrix& components,
               int threads, std::vector<double>* norms, std::vector<size_t>* argmax) {
    const size_t n = x.rows(), d = x.cols(), k = components.rows();
    Blocks blocks(n, block_rows(d));
    Matrix scores(n, k);
    std::vector<double> part_norm(blocks.count * k, 0.0);
    std::vector<size_t> part_arg(blocks.count * k, 0);
    ScratchPool pool(blocks.size, d);
    parallel_for(blocks.count, threads, [&](size_t b) {
        const size_t r0 = blocks.begin(b), rows = blocks.end(b) - r0;
        auto lease = pool.take();
        MatView scratch = lease.view(rows);
        centre_rows(x, mean, r0, scratch);
        MatView out = scores.row_range(r0, r0 + rows);
        blas::gemm(Trans::N, Trans::T, 1.0f, scratch, components, 0.0f, out);
        if (norms == nullptr) return;
        for (size_t j = 0; j < k; ++j) {
            double s = 0;
            size_t best = r0;
            float best_abs = -1;
            for (size_t i = 0; i < rows; ++i) {
                float v = out(i, j);
                s += static_cast<double>(v) * v;
                if (std::fabs(v) > best_abs) best_abs = std::fabs(v), best = r0 + i;
            }
            part_norm[b * k + j] = s;
            part_arg[b * k + j] = best;
        }
    });
    if (norms != nullptr) {
        norms->assign(k, 0.0);
        argmax->assign(k, 0);
        for (size_t j = 0; j < k; ++j) {
            float best_abs = -1;
            for (size_t b = 0; b < blocks.count; ++b) {
                (*norms)[j] += part_norm[b * k + j];
                size_t i = part_arg[b * k + j];
                if (std::fabs(scores(i, j)) > best_abs)
                    best_abs = std::fabs(scores(i, j)), (*argmax)[j] = i;
            }
        }
    }
    return scores;
}

// Exact top-k right singular vectors (k×d, float) of the centred matrix; also Σ‖Xc_j‖².
Matrix exact_axes(ConstMatView x, const std::vector<float>& mean, size_t k, int threads,
                  double* total_ss) {
    const size_t n = x.rows(), d = x.cols();
    Matrix axes(k, d);
    if (d <= n) {
        // Covariance (unscaled): C = Σ_b Xc_bᵀ·Xc_b, d×d.
        Blocks blocks(n, block_rows(d));
        MatrixD c = blocked_gram(blocks.count, blocks.size, d, threads, [&](size_t b, auto& s) {
            MatView v = s.view(blocks.end(b) - blocks.begin(b));
            centre_rows(x, mean, blocks.begin(b), v);
            return v;
        });
        *total_ss = 0;
        for (size_t j = 0; j < d; ++j) *total_ss += c(j, j);
        SymmetricEigen eig = psd_eigen_top(c, k);
        for (size_t j = 0; j < k; ++j)
            for (size_t i = 0; i < d; ++i) axes(j, i) = static_cast<float>(eig.vectors(i, j));
        return axes;
    }
    // Wide: Gram G = Xc·Xcᵀ (n×n) = Σ over column blocks c of T_cᵀ·T_c with T_c = Xc[:, c]ᵀ.
    Blocks cols(d, block_rows(n));
    MatrixD g = blocked_gram(cols.count, cols.size, n, threads, [&](size_t b, auto& s) {
        const size_t c0 = cols.begin(b), w = cols.end(b) - c0;
        MatView v = s.view(w);
        for (size_t i = 0; i < n; ++i) {
            const float* r = x.row(i).data();
            for (size_t j = 0; j < w; ++j) v(j, i) = r[c0 + j] - mean[c0 + j];
        }
        return v;
    });
    *total_ss = 0;
    for (size_t i = 0; i < n; ++i) *total_ss += g(i, i);
    SymmetricEigen eig = psd_eigen_top(g, k);
    Matrix u(n, k);
    for (size_t i = 0; i < u.size(); ++i) u.data()[i] = static_cast<float>(eig.vectors.data()[i]);
    // V[c] = T_c·U per column block (independent blocks), then unit columns.
    Matrix v(d, k);
    parallel_for(cols.count, threads, [&](size_t b) {
        const size_t c0 = cols.begin(b), w = cols.end(b) - c0;
        Matrix t(w, n);
        for (size_t i = 0; i < n; ++i)
            for (size_t j = 0; j < w; ++j) t(j, i) = x(i, c0 + j) - mean[c0 + j];
        blas::gemm(Trans::N, Trans::N, 1.0f, t, u, 0.0f, v.row_range(c0, c0 + w));
    });
    for (size_t j = 0; j < k; ++j) {
        double s = 0;
        for (size_t i = 0; i < d; ++i) s += static_cast<double>(v(i, j)) * v(i, j);
        const double inv = s > 0 ? 1.0 / std::sqrt(s) : 0.0;
        for (size_t i = 0; i < d; ++i) axes(j, i) = static_cast<float>(v(i, j) * inv);
    }
    return axes;
}

// z (d×b, float, accumulated) += Xc_bᵀ·(Xc_b·q) for rows [r0, r0+rows) of x, centring on the fly
// (x − mean rounded to float, the same values centre_rows writes), b = 8·NB. A register-tiled
// AVX2/FMA kernel: per tile of RT rows, y = Xc_t·q (RT×b in registers), then z += Xc_tᵀ·y, with
// the tile still in L1. At these widths it runs ~2–3× faster than two skinny OpenBLAS sgemm calls
// (whose packing dominates at this width), which makes a pass nearly memory-bound.
template <int NB, int RT>
__attribute__((target("avx2,fma"))) void gram_tile_avx2(ConstMatView x, const float* mean,
                                                        size_t r0, size_t rows, const float* q,
                                                        float* z, float* tile) {
    const size_t d = x.cols();
    constexpr size_t b = 8 * NB;
    size_t i = 0;
    for (; i + RT <= rows; i += RT) {
        // Centre the RT rows into the L1 tile (vectorised), so the products below broadcast
        // straight from memory (load ports) instead of a scalar subtract + shuffle per element.
        for (int t = 0; t < RT; ++t) {
            const float* xr = x.row(r0 + i + t).data();
            float* out = tile + t * d;
            for (size_t j = 0; j < d; ++j) out[j] = xr[j] - mean[j];
        }
        __m256 y[RT][NB];
        for (int t = 0; t < RT; ++t)
            for (int v = 0; v < NB; ++v) y[t][v] = _mm256_setzero_ps();
        // Software prefetch of the next tile (contiguous rows), one 64-byte line every other
        // j, so its DRAM reads overlap this tile's FMAs instead of stalling the centring.
        const char* next = nullptr;
        size_t next_bytes = 0;
        if (x.stride() == d && r0 + i + 2 * RT <= x.rows()) {
            next = reinterpret_cast<const char*>(x.row(r0 + i + RT).data());
            next_bytes = RT * d * sizeof(float);
        }
        for (size_t j = 0; j < d; ++j) {
            if (next != nullptr && j % 2 == 0 && j * 32 < next_bytes)
                _mm_prefetch(next + j * 32, _MM_HINT_T0);
            __m256 qv[NB];
            for (int v = 0; v < NB; ++v) qv[v] = _mm256_loadu_ps(q + j * b + 8 * v);
            for (int t = 0; t < RT; ++t) {
                const __m256 xc = _mm256_broadcast_ss(tile + t * d + j);
                for (int v = 0; v < NB; ++v) y[t][v] = _mm256_fmadd_ps(xc, qv[v], y[t][v]);
            }
        }
        for (size_t j = 0; j < d; ++j) {
            // Two accumulators (even / odd rows) halve the dependent FMA chain per row of z.
            __m256 acc[2][NB];
            for (int v = 0; v < NB; ++v) {
                acc[0][v] = _mm256_loadu_ps(z + j * b + 8 * v);
                acc[1][v] = _mm256_setzero_ps();
            }
            for (int t = 0; t < RT; ++t) {
                const __m256 xc = _mm256_broadcast_ss(tile + t * d + j);
                for (int v = 0; v < NB; ++v)
                    acc[t & 1][v] = _mm256_fmadd_ps(xc, y[t][v], acc[t & 1][v]);
            }
            for (int v = 0; v < NB; ++v)
                _mm256_storeu_ps(z + j * b + 8 * v, _mm256_add_ps(acc[0][v], acc[1][v]));
        }
    }
    if (i < rows) gram_tile_avx2<NB, 1>(x, mean, r0 + i, rows - i, q, z, tile);
}

// The fused kernel for block widths it handles (8, 16, 24 or 32 on AVX2/FMA machines); false
// otherwise.
bool gram_tile(ConstMatView x, const float* mean, size_t r0, size_t rows, ConstMatView q,
               float* z) {
    if (!has_avx2_fma() || q.stride() != q.cols()) return false;
    std::vector<float> buffer(8 * x.cols());  // the centred row tile, 8 rows at most
    float* tile = buffer.data();
    switch (q.cols()) {
        case 8:
            gram_tile_avx2<1, 8>(x, mean, r0, rows, q.data(), z, tile);
            return true;
        case 16:
            gram_tile_avx2<2, 4>(x, mean, r0, rows, q.data(), z, tile);
            return true;
        case 24:
            gram_tile_avx2<3, 2>(x, mean, r0, rows, q.data(), z, tile);
            return true;
        case 32:
            gram_tile_avx2<4, 2>(x, mean, r0, rows, q.data(), z, tile);
            return true;
        default:
            break;
    }
    return false;
}

// C·Q for C = XcᵀXc (unscaled covariance, never formed) in one fused pass over X: per row block,
// centre into scratch (float, like the covariance path and sklearn), Y = Xc_b·Q, Z_g += Xc_bᵀ·Y
// while the block is in cache. Float partials per fixed group of blocks are summed in group order
// in double, so Z does not depend on the thread count. The first pass also records Σ‖Xc_b‖².
double centred_ss(ConstMatView x, const std::vector<float>& mean, size_t r0, size_t rows) {
    double s = 0;
    for (size_t i = r0; i < r0 + rows; ++i) {
        const float* r = x.row(i).data();
        for (size_t j = 0; j < x.cols(); ++j) {
            const float c = r[j] - mean[j];
            s += static_cast<double>(c) * c;
        }
    }
    return s;
}

class CentredGramProduct {
  public:
    // record_ss: whether the first pass records Σ‖Xc_b‖² (total_ss()).
    CentredGramProduct(ConstMatView x, const std::vector<float>& mean, int threads, bool record_ss)
        : x_(x),
          mean_(mean),
          threads_(threads),
          blocks_(x.rows(), block_rows(x.cols())),
          block_ss_(blocks_.count, 0.0),
          pool_(blocks_.size, x.cols()),
          record_ss_(record_ss) {}

    // q is d×r, z (d×r) receives XcᵀXc·q.
    void operator()(ConstMatView q, MatrixD& z) {
        const size_t d = x_.cols(), r = q.cols();
        const size_t groups = group_count(blocks_.count, d * r);
        std::vector<Matrix> acc(groups);
        parallel_for(groups, threads_, [&](size_t g) {
            acc[g] = Matrix(d, r);
            for (size_t b = group_begin(g, groups, blocks_.count);
                 b < group_begin(g + 1, groups, blocks_.count); ++b) {
                const size_t rows = blocks_.end(b) - blocks_.begin(b);
                if (gram_tile(x_, mean_.data(), blocks_.begin(b), rows, q, acc[g].data())) {
                    if (first_ && record_ss_)
                        block_ss_[b] = centred_ss(x_, mean_, blocks_.begin(b), rows);
                    continue;
                }
                auto scratch = pool_.take();
                Matrix y(rows, r);
                MatView c = scratch.view(rows), yb = y.view();
                centre_rows(x_, mean_, blocks_.begin(b), c);
                if (first_ && record_ss_) {
                    double s = 0;
                    for (size_t i = 0; i < rows * d; ++i)
                        s += static_cast<double>(c.data()[i]) * c.data()[i];
                    block_ss_[b] = s;
                }
                blas::gemm(Trans::N, Trans::N, 1.0f, c, q, 0.0f, yb);
                blas::gemm(Trans::T, Trans::N, 1.0f, c, yb, 1.0f, acc[g]);
            }
        });
        first_ = false;
        std::fill(z.values().begin(), z.values().end(), 0.0);
        for (size_t g = 0; g < groups; ++g)
            for (size_t i = 0; i < z.size(); ++i) z.data()[i] += acc[g].data()[i];
    }

    // Σ‖Xc_j‖² (valid after the first product).
    double total_ss() const {
        double t = 0;
        for (double s : block_ss_) t += s;
        return t;
    }

  private:
    ConstMatView x_;
    const std::vector<float>& mean_;
    int threads_;
    Blocks blocks_;
    std::vector<double> block_ss_;
    ScratchPool pool_;
    bool record_ss_;
    bool first_ = true;
};

// Unit columns of v (d×k, double) as the rows of a k×d float matrix.
Matrix axes_from_columns(const MatrixD& v) {
    const size_t d = v.rows(), k = v.cols();
    Matrix axes(k, d);
    for (size_t j = 0; j < k; ++j) {
        double s = 0;
        for (size_t i = 0; i < d; ++i) s += v(i, j) * v(i, j);
        const double inv = s > 0 ? 1.0 / std::sqrt(s) : 0.0;
        for (size_t i = 0; i < d; ++i) axes(j, i) = static_cast<float>(v(i, j) * inv);
    }
    return axes;
}

// Randomized top-k axes (k×d); also Σ‖Xc_j‖² from the first pass.
Matrix randomized_axes(ConstMatView x, const std::vector<float>& mean, size_t k,
                       const PcaOptions& options, size_t power_iterations, int threads,
                       double* total_ss, double* residual) {
    const size_t n = x.rows(), d = x.cols();
    CentredGramProduct gram(x, mean, threads, true);
    RandomizedSvdOptions ro;
    ro.rank = k;
    ro.oversamples = std::min(options.oversamples, std::min(n, d) - k);
    ro.power_iterations = power_iterations;
    ro.seed = options.seed;
    RandomizedSvdResult res = randomized_top_right_singular(
        d, [&](ConstMatView q, MatrixD& z) { gram(q, z); }, ro);
    *total_ss = gram.total_ss();
    *residual = *std::max_element(res.residuals.begin(), res.residuals.end());
    return axes_from_columns(res.v);
}

// Top-k axes by block Krylov on the implicit covariance (block_krylov.hpp), within
// max_products passes; `converged` says whether the residual reached kPcaKrylovTolerance (the
// axes are the last Ritz vectors either way). The total sum of squares comes from column_mean's
// pass.
struct ImplicitAxes {
    Matrix axes;
    size_t products = 0;
    bool converged = false;
    double residual = 0;
};

ImplicitAxes implicit_axes(ConstMatView x, const std::vector<float>& mean,
                           const std::vector<double>& column_ss, size_t k,
                           const PcaOptions& options, int threads, size_t max_products) {
    const size_t d = x.cols();
    CentredGramProduct gram(x, mean, threads, false);
    BlockKrylovOptions ko;
    ko.rank = k;
    ko.block = pca_krylov_block(k);
    ko.max_products = max_products;
    ko.tolerance = kPcaKrylovTolerance;
    ko.seed = options.seed;
    // Start tilted towards high-variance columns (√ss_j), floored at 10% of the mean so that
    // constant columns still get random weight and the start spans every coordinate.
    double mean_ss = 0;
    for (double v : column_ss) mean_ss += v / static_cast<double>(d);
    ko.start_row_scale.resize(d);
    for (size_t j = 0; j < d; ++j) ko.start_row_scale[j] = std::sqrt(column_ss[j] + 0.01 * mean_ss);
    BlockKrylovResult res = block_krylov_top_eigen(
        d, [&](ConstMatView q, MatrixD& z) { gram(q, z); }, ko);
    ImplicitAxes out;
    out.products = res.products;
    out.converged = res.converged;
    out.residual = res.residuals.empty()
                       ? std::numeric_limits<double>::infinity()
                       : *std::max_element(res.residuals.begin(), res.residuals.end());
    if (res.v.rows() == d) out.axes = axes_from_columns(res.v);
    return out;
}

PcaSolver choose_solver(const PcaOptions& o) {
    return o.solver == PcaSolver::automatic ? PcaSolver::exact : o.solver;
}

PcaExactMethod choose_exact_method(const PcaOptions& o, size_t n, size_t d) {
    if (o.exact_method != PcaExactMethod::automatic) return o.exact_method;
    if (std::min(n, d) > o.gram_max_dim) return PcaExactMethod::implicit;
    const double b = static_cast<double>(pca_krylov_block(o.components));
    const double covariance = static_cast<double>(std::min(n, d));  // flops / (n·d)
    const double penalty =
        has_avx2_fma() && b <= 32 ? kPcaKrylovFlopPenalty : 2 * kPcaKrylovFlopPenalty;
    const double implicit = kPcaKrylovExpectedProducts * 4.0 * b * penalty;
    return implicit < covariance ? PcaExactMethod::implicit : PcaExactMethod::covariance;
}

// The statistics, flips and scores shared by both solvers.
Matrix finish(ConstMatView x, PcaModel& m, double total_ss, int threads) {
    const size_t n = x.rows(), k = m.components.rows(), d = x.cols();
    std::vector<double> norms;
    std::vector<size_t> argmax;
    Matrix scores = project(x, m.mean, m.components, threads, &norms, &argmax);
    const double dof = static_cast<double>(n - 1);
    m.total_variance = total_ss / dof;
    m.singular_values.resize(k);
    m.explained_variance.resize(k);
    m.explained_variance_ratio.resize(k);
    for (size_t j = 0; j < k; ++j) {
        m.singular_values[j] = std::sqrt(norms[j]);
        m.explained_variance[j] = norms[j] / dof;
        m.explained_variance_ratio[j] =
            m.total_variance > 0 ? m.explained_variance[j] / m.total_variance : 0.0;
        // svd_flip (u-based): the score of largest |value| must be positive (0 counts as +).
        if (scores(argmax[j], j) < 0) {
            for (size_t i = 0; i < n; ++i) scores(i, j) = -scores(i, j);
            for (size_t i = 0; i < d; ++i) m.components(j, i) = -m.components(j, i);
        }
    }
    return scores;
}

}  // namespace

std::string describe(const PcaModel& m) {
    if (m.solver_used == PcaSolver::exact) {
        if (m.exact_method_used == PcaExactMethod::covariance)
            return m.krylov_products == 0
                       ? std::string("exact (covariance)")
                       : fmt::format("exact (covariance, after {} unconverged Krylov passes)",
                                     m.krylov_products);
        return fmt::format("exact (implicit, {} passes, residual {:.1e})", m.krylov_products,
                           m.residual);
    }
    if (m.power_iterations_used == 0 && m.krylov_products > 0)
        return fmt::format("randomized (NOT converged: {} Krylov passes, residual {:.1e})",
                           m.krylov_products, m.residual);
    return fmt::format("randomized ({} power iterations, residual {:.1e}{})",
                       m.power_iterations_used, m.residual, m.converged ? "" : ", not converged");
}

Matrix PcaModel::transform(ConstMatView x, int threads) const {
    require(x.cols() == mean.size(), "PCA: fitted on {} columns, transform got {}", mean.size(),
            x.cols());
    return project(x, mean, components, threads, nullptr, nullptr);
}

Matrix pca_fit_transform(ConstMatView x, const PcaOptions& options, PcaModel* model) {
    const size_t n = x.rows(), d = x.cols(), k = options.components;
    validate(x, k);
    const int threads = resolve_threads(options.threads);
    require(options.power_iterations >= -1,
            "PCA: power_iterations must be -1 (auto) or >= 0, got {}", options.power_iterations);
    PcaModel m;
    m.solver_used = choose_solver(options);
    if (m.solver_used == PcaSolver::exact) m.exact_method_used = choose_exact_method(options, n, d);
    const bool implicit =
        m.solver_used == PcaSolver::exact && m.exact_method_used == PcaExactMethod::implicit;
    double total_ss = 0;
    std::vector<double> column_ss;
    m.mean = column_mean(x, threads, implicit ? &total_ss : nullptr, &column_ss);
    if (m.solver_used == PcaSolver::exact) {
        const bool wide = std::min(n, d) > kPcaExactMaxDim;
        if (implicit) {
            const size_t budget = options.krylov_max_products > 0 ? options.krylov_max_products
                                  : wide                          ? kPcaWideMaxProducts
                                                                  : kPcaKrylovMaxProducts;
            ImplicitAxes r = implicit_axes(x, m.mean, column_ss, k, options, threads, budget);
            m.krylov_products = r.products;
            m.residual = r.residual;
            if (r.converged) {
                m.components = std::move(r.axes);
            } else if (std::min(n, d) <= options.gram_max_dim || r.axes.rows() != k) {
                m.exact_method_used = PcaExactMethod::covariance;  // affordable: exact fallback
            } else {
                // Too wide for the covariance / Gram matrix: the best answer these passes give,
                // reported as unverified.
                m.solver_used = PcaSolver::randomized;
                m.converged = false;
                m.components = std::move(r.axes);
            }
        }
        if (m.solver_used == PcaSolver::exact &&
            m.exact_method_used == PcaExactMethod::covariance) {
            m.components = exact_axes(x, m.mean, k, threads, &total_ss);
            m.residual = -1;
        }
    } else {
        const size_t q =
            options.power_iterations >= 0
                ? static_cast<size_t>(options.power_iterations)
                : (static_cast<double>(k) < 0.1 * static_cast<double>(std::min(n, d)) ? 7 : 4);
        m.power_iterations_used = q;
        m.components = randomized_axes(x, m.mean, k, options, q, threads, &total_ss, &m.residual);
        m.converged = m.residual <= kPcaKrylovTolerance;
    }
    Matrix scores = finish(x, m, total_ss, threads);
    if (model != nullptr) *model = std::move(m);
    return scores;
}

PcaModel pca_fit(ConstMatView x, const PcaOptions& options) {
    PcaModel m;
    pca_fit_transform(x, options, &m);
    return m;
}

namespace reference {

PcaModel pca_fit(ConstMatView x, size_t components, Matrix* scores) {
    const size_t n = x.rows(), d = x.cols(), k = components;
    validate(x, k);
    PcaModel m;
    std::vector<double> mean(d, 0.0);
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < d; ++j) mean[j] += x(i, j);
    for (double& v : mean) v /= static_cast<double>(n);
    MatrixD xc(n, d);
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < d; ++j) xc(i, j) = x(i, j) - mean[j];
    ThinSvd svd = thin_svd(xc);
    const double dof = static_cast<double>(n - 1);
    for (double s : svd.s) m.total_variance += s * s / dof;
    m.mean.assign(mean.begin(), mean.end());
    m.components = Matrix(k, d);
    if (scores != nullptr) *scores = Matrix(n, k);
    for (size_t j = 0; j < k; ++j) {
        size_t best = 0;
        for (size_t i = 1; i < n; ++i)
            if (std::fabs(svd.u(i, j)) > std::fabs(svd.u(best, j))) best = i;
        const double sign = svd.u(best, j) < 0 ? -1.0 : 1.0;
        for (size_t i = 0; i < d; ++i) m.components(j, i) = static_cast<float>(sign * svd.vt(j, i));
        if (scores != nullptr)
            for (size_t i = 0; i < n; ++i)
                (*scores)(i, j) = static_cast<float>(sign * svd.u(i, j) * svd.s[j]);
        m.singular_values.push_back(svd.s[j]);
        m.explained_variance.push_back(svd.s[j] * svd.s[j] / dof);
        m.explained_variance_ratio.push_back(m.explained_variance.back() / m.total_variance);
    }
    return m;
}

}  // namespace reference

}  // namespace promptlens
