// Adam with decoupled weight decay (AdamW, Loshchilov & Hutter 2019; weight_decay 0 is plain Adam,
// as torch.optim.Adam), a learning-rate schedule and gradient clipping by global norm — what
// soft-prompt papers train with. Parameters and moments are double; the state is plain data so a
// checkpoint can save and restore it exactly.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace promptlens::train {

struct AdamOptions {
    double learning_rate =
        3e-2;  // peak rate; soft prompts take large steps (Lester et al. use 0.3)
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.0;  // AdamW's decoupled decay; 0 = Adam
    double clip_norm = 1.0;     // clip the gradient to this global L2 norm; 0 = no clipping
};

enum class Schedule { constant, linear, cosine };
Schedule parse_schedule(const std::string& name);  // constant | linear | cosine
const char* schedule_name(Schedule s);

// The rate at step (0-based) of total_steps: linear warm-up over warmup_steps, then constant, or
// a linear / cosine decay to 0 at total_steps.
double scheduled_rate(double peak, Schedule s, size_t step, size_t warmup_steps,
                      size_t total_steps);

struct AdamState {
    size_t step = 0;        // updates taken
    std::vector<double> m;  // first moment
    std::vector<double> v;  // second moment
};

struct AdamStepInfo {
    double grad_norm = 0;  // before clipping
    bool clipped = false;
};

// One update of `params` with `grad` (modified: clipped in place) at learning rate `rate`.
AdamStepInfo adam_step(const AdamOptions& options, double rate, std::span<double> params,
                       std::span<double> grad, AdamState& state);

}  // namespace promptlens::train
