#include "train/adam.hpp"

#include <cmath>
#include <numbers>

#include "core/error.hpp"

namespace promptlens::train {

Schedule parse_schedule(const std::string& name) {
    if (name == "constant") return Schedule::constant;
    if (name == "linear") return Schedule::linear;
    if (name == "cosine") return Schedule::cosine;
    fail("unknown learning-rate schedule '{}' (constant, linear, cosine)", name);
}

const char* schedule_name(Schedule s) {
    switch (s) {
        case Schedule::constant:
            return "constant";
        case Schedule::linear:
            return "linear";
        case Schedule::cosine:
            return "cosine";
    }
    return "?";
}

double scheduled_rate(double peak, Schedule s, size_t step, size_t warmup_steps,
                      size_t total_steps) {
    if (step < warmup_steps) return peak * double(step + 1) / double(warmup_steps);
    if (s == Schedule::constant || total_steps <= warmup_steps) return peak;
    const double progress =
        std::min(1.0, double(step - warmup_steps) / double(total_steps - warmup_steps));
    if (s == Schedule::linear) return peak * (1.0 - progress);
    return peak * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

AdamStepInfo adam_step(const AdamOptions& o, double rate, std::span<double> params,
                       std::span<double> grad, AdamState& state) {
    const size_t n = params.size();
    require(grad.size() == n, "adam: {} parameters but {} gradients", n, grad.size());
    if (state.m.empty()) {
        state.m.assign(n, 0.0);
        state.v.assign(n, 0.0);
    }
    require(state.m.size() == n && state.v.size() == n,
            "adam: the optimiser state has {} entries, the parameters {}", state.m.size(), n);
    AdamStepInfo info;
    double sq = 0;
    for (double g : grad) sq += g * g;
    info.grad_norm = std::sqrt(sq);
    require(std::isfinite(info.grad_norm), "adam: the gradient is not finite (norm {})",
            info.grad_norm);
    if (o.clip_norm > 0 && info.grad_norm > o.clip_norm) {
        const double f = o.clip_norm / info.grad_norm;
        for (double& g : grad) g *= f;
        info.clipped = true;
    }
    ++state.step;
    const double c1 = 1.0 - std::pow(o.beta1, double(state.step));
    const double c2 = 1.0 - std::pow(o.beta2, double(state.step));
    for (size_t i = 0; i < n; ++i) {
        state.m[i] = o.beta1 * state.m[i] + (1.0 - o.beta1) * grad[i];
        state.v[i] = o.beta2 * state.v[i] + (1.0 - o.beta2) * grad[i] * grad[i];
        const double mhat = state.m[i] / c1, vhat = state.v[i] / c2;
        params[i] -= rate * (mhat / (std::sqrt(vhat) + o.eps) + o.weight_decay * params[i]);
    }
    return info;
}

}  // namespace promptlens::train
