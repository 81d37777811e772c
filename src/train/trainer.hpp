// The soft-prompt training loop over tokenised, labelled texts held in memory: GPT-2 frozen, one
// prompt (P×C) learned with Adam. Steppable, like the other long algorithms: `train_step()` runs
// the next batch, `validate()` measures a prompt on the validation rows, and the whole state
// (prompt, optimiser moments, position in the epoch) can be read and restored, so a caller can
// checkpoint, show progress and resume (train_job.hpp does all three).
//
// One step: the batch's texts go through the fast CPU text pass without gradients (their K/V do
// not depend on the prompt); the prompt pass runs forward with a tape and backward from the loss
// — batched in fp32 (train/prompt_grad_cpu.hpp) or, as the reference, per row in double
// (train/prompt_grad_reference.hpp, rows in parallel, gradients summed in row order) — so the
// result does not depend on the thread count. Batches follow a seeded shuffle per
// epoch; the last batch of an epoch may be smaller.
#pragma once

#include <cstdint>
#include <vector>

#include "core/matrix.hpp"
#include "model/backend.hpp"
#include "model/gpt2_cpu.hpp"
#include "train/adam.hpp"
#include "train/output_head.hpp"
#include "train/prompt_loss.hpp"

namespace promptlens::train {

struct TrainSet {
    PackedTokens texts;
    std::vector<int32_t> classes;  // per row, 0 … K-1
};

// Which implementation computes the prompt gradient: the batched fp32 CPU path
// (prompt_grad_cpu.hpp) or the double-precision reference, one text at a time.
enum class GradEngine { cpu, reference };

struct TrainerOptions {
    LossOptions loss;
    OutputHead head;  // what the loss sees
    // One token per class whose logit votes for it (label-token accuracy); may be empty.
    std::vector<int32_t> label_token_ids;
    AdamOptions adam;
    Schedule schedule = Schedule::constant;
    size_t warmup_steps = 0;
    size_t batch_size = 8;
    size_t epochs = 5;
    uint64_t seed = 0;  // batch order
    int threads = 1;    // 0 = all cores; results do not depend on it
    size_t knn_k = 10;  // k of the validation k-NN accuracy
    GradEngine engine = GradEngine::cpu;
    // bf16: the text passes, validation and the forward GEMMs of the gradient's prompt pass in
    // bf16 (about 1.7x faster, ~1e-2 relative error); the backward GEMMs stay fp32.
    Precision precision = Precision::fp32;
};

struct Validation {
    double loss = 0;             // mean over consecutive batches of batch_size rows
    double token_accuracy = -1;  // argmax of the label-token logits is the class; −1 = no tokens
    double knn_accuracy = -1;    // 5-fold k-NN accuracy of the last hidden states; −1 = too few
};

struct TrainPosition {
    size_t epoch = 0;  // 0-based epoch of the next batch
    size_t batch = 0;  // next batch within it
};

class PromptTrainer {
  public:
    // The weights and sets must outlive the trainer. prompt: P×C initial embeddings.
    PromptTrainer(const Gpt2Weights& w, const TrainSet& train, const TrainSet& validation,
                  TrainerOptions options, MatrixD prompt);

    size_t batches_per_epoch() const;
    size_t total_steps() const { return batches_per_epoch() * options_.epochs; }
    bool finished() const { return position_.epoch >= options_.epochs; }
    const TrainPosition& position() const { return position_; }

    // Runs the next batch and updates the prompt; returns the batch's loss (before the update).
    double train_step();

    Validation validate(const MatrixD& prompt) const;
    Validation validate() const { return validate(prompt_); }

    const MatrixD& prompt() const { return prompt_; }
    const AdamState& optimiser() const { return adam_; }
    double last_rate() const { return last_rate_; }
    double last_grad_norm() const { return last_grad_norm_; }
    // The last step's gradient (P×C, before clipping), for benches and tests.
    const std::vector<double>& last_gradient() const { return last_grad_; }
    void restore(MatrixD prompt, AdamState adam, TrainPosition position);

  private:
    std::vector<size_t> epoch_order(size_t epoch) const;

    const Gpt2Weights& w_;
    const TrainSet& train_;
    const TrainSet& val_;
    TrainerOptions options_;
    Gpt2CpuModel fwd_;  // options.precision: every forward pass
    MatrixD prompt_;
    AdamState adam_;
    TrainPosition position_;
    std::vector<size_t> order_;  // the current epoch's row order
    size_t order_epoch_ = SIZE_MAX;
    double last_rate_ = 0, last_grad_norm_ = 0;
    std::vector<double> last_grad_;
};

}  // namespace promptlens::train
