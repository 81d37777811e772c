#include "train/prompt_loss.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace promptlens::train {
namespace {

double dot(std::span<const double> a, std::span<const double> b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

LossValue token_loss(const MatrixD& z, std::span<const int32_t> targets) {
    const size_t B = z.rows(), D = z.cols();
    LossValue r;
    r.grad = MatrixD(B, D);
    for (size_t i = 0; i < B; ++i) {
        auto zi = z.row(i);
        const auto t = size_t(targets[i]);
        require(targets[i] >= 0 && t < D, "token loss: target {} of row {} is outside 0 … {}",
                targets[i], i, D - 1);
        const double mx = *std::max_element(zi.begin(), zi.end());
        double sum = 0;
        for (double v : zi) sum += std::exp(v - mx);
        const double log_sum = mx + std::log(sum);
        r.value += (log_sum - zi[t]) / double(B);
        auto g = r.grad.row(i);
        for (size_t c = 0; c < D; ++c) g[c] = std::exp(zi[c] - log_sum) / double(B);
        g[t] -= 1.0 / double(B);
    }
    return r;
}

// Counts of same- and different-label pairs i<j.
std::pair<size_t, size_t> pair_counts(std::span<const int32_t> y) {
    size_t same = 0, diff = 0;
    for (size_t i = 0; i < y.size(); ++i) {
        for (size_t j = i + 1; j < y.size(); ++j) (y[i] == y[j] ? same : diff)++;
    }
    return {same, diff};
}

LossValue cosine_loss(const MatrixD& z, std::span<const int32_t> y, double margin) {
    const size_t B = z.rows(), D = z.cols();
    const auto [same, diff] = pair_counts(y);
    LossValue r;
    r.grad = MatrixD(B, D);
    std::vector<double> norm(B);
    for (size_t i = 0; i < B; ++i) norm[i] = std::max(std::sqrt(dot(z.row(i), z.row(i))), 1e-12);
    for (size_t i = 0; i < B; ++i) {
        for (size_t j = i + 1; j < B; ++j) {
            const double c = dot(z.row(i), z.row(j)) / (norm[i] * norm[j]);
            double dc = 0;  // dLoss/dcos_ij
            if (y[i] == y[j]) {
                r.value += (1.0 - c) / double(same);
                dc = -1.0 / double(same);
            } else if (c > margin) {
                r.value += (c - margin) / double(diff);
                dc = 1.0 / double(diff);
            }
            if (dc == 0) continue;
            // dcos/dz_i = z_j/(|z_i||z_j|) − cos·z_i/|z_i|², and symmetrically for z_j.
            auto gi = r.grad.row(i), gj = r.grad.row(j);
            auto zi = z.row(i), zj = z.row(j);
            for (size_t d = 0; d < D; ++d) {
                gi[d] += dc * (zj[d] / (norm[i] * norm[j]) - c * zi[d] / (norm[i] * norm[i]));
                gj[d] += dc * (zi[d] / (norm[i] * norm[j]) - c * zj[d] / (norm[j] * norm[j]));
            }
        }
    }
    return r;
}

LossValue distance_loss(const MatrixD& z, std::span<const int32_t> y, double margin) {
    require(margin > 0, "distance loss: the margin must be positive (got {})", margin);
    const size_t B = z.rows(), D = z.cols();
    const auto [same, diff] = pair_counts(y);
    LossValue r;
    r.grad = MatrixD(B, D);
    std::vector<double> delta(D);
    for (size_t i = 0; i < B; ++i) {
        for (size_t j = i + 1; j < B; ++j) {
            auto zi = z.row(i), zj = z.row(j);
            double sq = 0;
            for (size_t d = 0; d < D; ++d) sq += (delta[d] = zi[d] - zj[d]) * delta[d];
            const double dist = std::sqrt(sq);
            double dd = 0;  // dLoss/dd_ij
            if (y[i] == y[j]) {
                r.value += dist / double(same);
                dd = 1.0 / double(same);
            } else if (dist < margin) {
                r.value += (margin - dist) / double(diff);
                dd = -1.0 / double(diff);
            }
            if (dd == 0 || dist == 0) continue;  // at d = 0 the subgradient 0 is taken
            auto gi = r.grad.row(i), gj = r.grad.row(j);
            for (size_t d = 0; d < D; ++d) {
                gi[d] += dd * delta[d] / dist;
                gj[d] -= dd * delta[d] / dist;
            }
        }
    }
    return r;
}

LossValue contrastive_loss(const MatrixD& z, std::span<const int32_t> y, double tau) {
    require(tau > 0, "contrastive loss: the temperature must be positive (got {})", tau);
    const size_t B = z.rows(), D = z.cols();
    LossValue r;
    r.grad = MatrixD(B, D);
    if (B < 2) return r;
    MatrixD u(B, D);
    std::vector<double> norm(B);
    for (size_t i = 0; i < B; ++i) {
        norm[i] = std::max(std::sqrt(dot(z.row(i), z.row(i))), 1e-12);
        for (size_t d = 0; d < D; ++d) u(i, d) = z(i, d) / norm[i];
    }
    MatrixD s(B, B);  // s_ia = u_i·u_a / τ
    for (size_t i = 0; i < B; ++i) {
        for (size_t a = 0; a < B; ++a) s(i, a) = dot(u.row(i), u.row(a)) / tau;
    }
    size_t anchors = 0;
    for (size_t i = 0; i < B; ++i) {
        for (size_t a = 0; a < B; ++a) {
            if (a != i && y[a] == y[i]) {
                ++anchors;
                break;
            }
        }
    }
    if (anchors == 0) return r;
    MatrixD ds(B, B);  // dLoss/ds_ia
    for (size_t i = 0; i < B; ++i) {
        size_t positives = 0;
        double mx = -INFINITY;
        for (size_t a = 0; a < B; ++a) {
            if (a == i) continue;
            positives += y[a] == y[i];
            mx = std::max(mx, s(i, a));
        }
        if (positives == 0) continue;
        double sum = 0;
        for (size_t a = 0; a < B; ++a) {
            if (a != i) sum += std::exp(s(i, a) - mx);
        }
        const double log_sum = mx + std::log(sum);
        for (size_t a = 0; a < B; ++a) {
            if (a == i) continue;
            const bool pos = y[a] == y[i];
            if (pos) r.value += (log_sum - s(i, a)) / double(positives) / double(anchors);
            ds(i, a) = (std::exp(s(i, a) - log_sum) - (pos ? 1.0 / double(positives) : 0.0)) /
                       double(anchors);
        }
    }
    // s_ia = u_i·u_a/τ → du; then through u = z/|z|: dz = (du − u·(u·du))/|z|.
    MatrixD du(B, D);
    for (size_t i = 0; i < B; ++i) {
        for (size_t a = 0; a < B; ++a) {
            const double g = ds(i, a) / tau;
            if (g == 0) continue;
            for (size_t d = 0; d < D; ++d) {
                du(i, d) += g * u(a, d);
                du(a, d) += g * u(i, d);
            }
        }
    }
    for (size_t i = 0; i < B; ++i) {
        const double ud = dot(u.row(i), du.row(i));
        for (size_t d = 0; d < D; ++d) r.grad(i, d) = (du(i, d) - u(i, d) * ud) / norm[i];
    }
    return r;
}

}  // namespace

LossKind parse_loss_kind(const std::string& name) {
    if (name == "token") return LossKind::token;
    if (name == "cosine") return LossKind::cosine;
    if (name == "distance") return LossKind::distance;
    if (name == "contrastive") return LossKind::contrastive;
    fail("unknown loss '{}' (token, cosine, distance, contrastive)", name);
}

const char* loss_kind_name(LossKind kind) {
    switch (kind) {
        case LossKind::token:
            return "token";
        case LossKind::cosine:
            return "cosine";
        case LossKind::distance:
            return "distance";
        case LossKind::contrastive:
            return "contrastive";
    }
    return "?";
}

LossValue compute_loss(const LossOptions& options, const MatrixD& z,
                       std::span<const int32_t> targets) {
    require(z.rows() == targets.size(), "loss: {} outputs but {} targets", z.rows(),
            targets.size());
    require(z.rows() >= 1 && z.cols() >= 1, "loss: empty batch");
    switch (options.kind) {
        case LossKind::token:
            return token_loss(z, targets);
        case LossKind::cosine:
            return cosine_loss(z, targets, options.margin);
        case LossKind::distance:
            return distance_loss(z, targets, options.margin);
        case LossKind::contrastive:
            return contrastive_loss(z, targets, options.temperature);
    }
    fail("loss: unknown kind");
}

}  // namespace promptlens::train
