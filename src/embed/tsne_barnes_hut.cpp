// Barnes-Hut repulsion for a 2-D t-SNE embedding (van der Maaten 2014), with scikit-learn 1.2's
// rules (sklearn/neighbors/_quad_tree.pyx, sklearn/manifold/_barnes_hut_tsne.pyx):
//  * the root cell is the data's bounding box, its upper corner pushed out by
//    max(M·(1 + 1e-3·sign M), M + 1e-3) so every point lies strictly inside;
//  * a cell splits at its centre; a point with coordinate >= centre goes to the upper half;
//  * a cell stands for its points (count, centre of mass) when it is a leaf or when
//    (max cell width)² / ‖y_i − centre of mass‖² < θ²; otherwise its children are visited.
// Differences from scikit-learn, on purpose: the tree is in double (sklearn rounds to float32);
// points are duplicates only when bitwise equal (sklearn: within 1e-6 per coordinate), and the
// leaf that holds y_i contributes its other points exactly (sklearn drops the whole leaf, so its
// Z misses the duplicates of y_i), which keeps the contract "equals the exact sum as θ → 0".
// A cell stops splitting at depth kMaxDepth (its width is then ~1e-15 of the root's), so
// near-identical points cannot recurse forever; such a leaf is summed point by point when it
// holds y_i.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "embed/tsne_repulsion_detail.hpp"

namespace promptlens::detail {
namespace {

constexpr size_t kRowChunk = 512;  // points per parallel chunk (fixed: Z is summed chunk by chunk)
constexpr int kMaxDepth = 50;

struct Cell {
    double bx = 0, by = 0;  // centre of mass
    double width2 = 0;      // (max over dims of the cell's width)²
    uint32_t begin = 0;     // points order[begin, end)
    uint32_t end = 0;
    uint32_t first_child = 0;  // children are cells [first_child, first_child + n_children)
    uint8_t n_children = 0;    // 0: leaf
    bool identical = false;    // a leaf whose points are all bitwise equal
};

class QuadTree {
  public:
    // y is n×2 row-major.
    QuadTree(const double* y, size_t n) : y_(y), order_(n), position_(n) {
        for (size_t i = 0; i < n; ++i) order_[i] = static_cast<uint32_t>(i);
        if (n == 0) return;
        std::array<double, 2> lo{y[0], y[1]}, hi{y[0], y[1]};
        for (size_t i = 0; i < n; ++i)
            for (int c = 0; c < 2; ++c) {
                lo[c] = std::min(lo[c], y[2 * i + c]);
                hi[c] = std::max(hi[c], y[2 * i + c]);
            }
        for (int c = 0; c < 2; ++c) {
            const double m = hi[c], sign = m > 0 ? 1.0 : (m < 0 ? -1.0 : 0.0);
            hi[c] = std::max(m * (1.0 + 1e-3 * sign), m + 1e-3);
        }
        cells_.reserve(2 * n);
        cells_.emplace_back();
        scratch_.resize(n);
        build(0, 0, static_cast<uint32_t>(n), lo, hi, 0);
        for (size_t k = 0; k < n; ++k) position_[order_[k]] = static_cast<uint32_t>(k);
    }

    // Adds the repulsion on point i to r (2 values) and returns Σ_{j≠i} w_ij.
    double visit(size_t i, double theta2, double* r, std::vector<uint32_t>& stack) const {
        const double xi = y_[2 * i], yi = y_[2 * i + 1];
        const uint32_t pos = position_[i];
        double z = 0, rx = 0, ry = 0;
        stack.clear();
        stack.push_back(0);
        while (!stack.empty()) {
            const Cell& cell = cells_[stack.back()];
            stack.pop_back();
            const bool leaf = cell.n_children == 0;
            if (leaf && cell.begin <= pos && pos < cell.end) {
                // The leaf holding y_i: its other points, exactly.
                if (cell.identical) {
                    z += static_cast<double>(cell.end - cell.begin - 1);  // w = 1, no force
                    continue;
                }
                for (uint32_t k = cell.begin; k < cell.end; ++k) {
                    const uint32_t j = order_[k];
                    if (j == i) continue;
                    const double dx = xi - y_[2 * j], dy = yi - y_[2 * j + 1];
                    const double w = 1.0 / (1.0 + dx * dx + dy * dy);
                    z += w;
                    rx += w * w * dx;
                    ry += w * w * dy;
                }
                continue;
            }
            const double dx = xi - cell.bx, dy = yi - cell.by;
            const double d2 = dx * dx + dy * dy;
            if (leaf || cell.width2 < theta2 * d2) {
                const double count = static_cast<double>(cell.end - cell.begin);
                const double w = 1.0 / (1.0 + d2);
                z += count * w;
                rx += count * w * w * dx;
                ry += count * w * w * dy;
                continue;
            }
            // Children pushed last-first so they are visited in order 0..3.
            for (int c = cell.n_children - 1; c >= 0; --c) stack.push_back(cell.first_child + c);
        }
        r[0] = rx;
        r[1] = ry;
        return z;
    }

  private:
    void build(uint32_t id, uint32_t begin, uint32_t end, std::array<double, 2> lo,
               std::array<double, 2> hi, int depth) {
        double sx = 0, sy = 0;
        bool identical = true;
        const double x0 = y_[2 * order_[begin]], y0 = y_[2 * order_[begin] + 1];
        for (uint32_t k = begin; k < end; ++k) {
            const double px = y_[2 * order_[k]], py = y_[2 * order_[k] + 1];
            sx += px;
            sy += py;
            identical = identical && px == x0 && py == y0;
        }
        const double count = static_cast<double>(end - begin);
        const double width = std::max(hi[0] - lo[0], hi[1] - lo[1]);
        {
            Cell& cell = cells_[id];
            cell.begin = begin;
            cell.end = end;
            cell.bx = identical ? x0 : sx / count;
            cell.by = identical ? y0 : sy / count;
            cell.width2 = width * width;
            cell.identical = identical;
        }
        if (identical || depth >= kMaxDepth) return;

        // Stable partition into quadrants; child index = 2·(x >= cx) + (y >= cy), as sklearn.
        const double cx = 0.5 * (lo[0] + hi[0]), cy = 0.5 * (lo[1] + hi[1]);
        std::array<uint32_t, 5> start{};
        auto quadrant = [&](uint32_t j) {
            return 2 * (y_[2 * j] >= cx ? 1 : 0) + (y_[2 * j + 1] >= cy ? 1 : 0);
        };
        for (uint32_t k = begin; k < end; ++k) ++start[quadrant(order_[k]) + 1];
        for (int q = 0; q < 4; ++q) start[q + 1] += start[q];
        std::array<uint32_t, 4> fill{};
        for (uint32_t k = begin; k < end; ++k) {
            const uint32_t j = order_[k];
            const int q = quadrant(j);
            scratch_[begin + start[q] + fill[q]++] = j;
        }
        std::copy(scratch_.begin() + begin, scratch_.begin() + end, order_.begin() + begin);

        const auto first = static_cast<uint32_t>(cells_.size());
        uint8_t n_children = 0;
        for (int q = 0; q < 4; ++q)
            if (start[q + 1] > start[q]) ++n_children;
        cells_.resize(cells_.size() + n_children);
        cells_[id].first_child = first;
        cells_[id].n_children = n_children;
        uint32_t child = first;
        for (int q = 0; q < 4; ++q) {
            if (start[q + 1] == start[q]) continue;
            std::array<double, 2> clo = lo, chi = hi;
            if (q & 2)
                clo[0] = cx;
            else
                chi[0] = cx;
            if (q & 1)
                clo[1] = cy;
            else
                chi[1] = cy;
            build(child++, begin + start[q], begin + start[q + 1], clo, chi, depth + 1);
        }
    }

    const double* y_;
    std::vector<uint32_t> order_;     // points in tree order: every cell owns a contiguous range
    std::vector<uint32_t> position_;  // position_[i]: where point i sits in order_
    std::vector<uint32_t> scratch_;
    std::vector<Cell> cells_;
};

}  // namespace

double tsne_repulsion_barnes_hut(std::span<const double> y, size_t n, size_t dims,
                                 std::span<double> rep, const TsneRepulsionOptions& options) {
    require(dims == 2, "t-SNE Barnes-Hut: needs a 2-D embedding, got {} dimensions", dims);
    require(options.theta >= 0, "t-SNE Barnes-Hut: theta must be >= 0, got {}", options.theta);
    require(n < (size_t{1} << 31), "t-SNE Barnes-Hut: {} points are too many (max 2^31)", n);
    for (size_t k = 0; k < 2 * n; ++k)
        require(std::isfinite(y[k]), "t-SNE Barnes-Hut: coordinate {} of point {} is {}", k % 2,
                k / 2, y[k]);
    if (n == 0) return 0;
    const QuadTree tree(y.data(), n);
    const double theta2 = options.theta * options.theta;
    const size_t chunks = chunk_count(n, kRowChunk);
    std::vector<double> z_chunk(chunks, 0.0);
    parallel_for(chunks, options.threads, [&](size_t c) {
        std::vector<uint32_t> stack;
        stack.reserve(256);
        double z = 0;
        for (size_t i = c * kRowChunk; i < std::min(n, (c + 1) * kRowChunk); ++i)
            z += tree.visit(i, theta2, rep.data() + 2 * i, stack);
        z_chunk[c] = z;
    });
    double z = 0;
    for (double v : z_chunk) z += v;
    return z;
}

}  // namespace promptlens::detail
