// A training run described the way a user describes it (paths, token spellings, option names)
// and carried out with checkpoints: `promptlens train-prompt` builds one of these. Errors in the
// dataset come first, then tokenizer and weights, then label tokens, before any training.
//
// OUT/ receives
//   prompt-best.npy / .safetensors   the prompt of the best validation score ([P, C] float32;
//                                    tensor "prompt" [1, P, C]): loadable by extract and studies
//   prompt-last.npy / .safetensors   the prompt after the last epoch
//   history.jsonl                    one line per epoch (epoch 0 = the initial prompt): train and
//                                    validation loss, label-token and k-NN accuracy, rate, seconds
//   train.json                       what was trained and how, with the final summary
//   checkpoint.safetensors           the resumable state (train_state.hpp), rewritten every
//                                    `checkpoint_seconds` and after every epoch
// The best score is the validation label-token accuracy for the token loss and the k-NN accuracy
// of the last hidden states for the other losses (ties: the earlier epoch).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "extract/load_dataset.hpp"
#include "train/prompt_init.hpp"
#include "train/trainer.hpp"

namespace promptlens::train {

struct TrainJob {
    std::string model;                 // model folder (already resolved from a hub name)
    std::string tokenizer;             // folder with the tokenizer files; "" = the model folder
    std::string data;                  // labelled training texts
    std::string validation_data;       // "" = hold out validation_fraction of `data`
    DatasetOptions dataset;            // how to read both
    double validation_fraction = 0.2;  // stratified, seeded
    // label → token ("good=good,bad=bad"); empty: each class whose name is a vocabulary token.
    std::vector<std::pair<std::string, std::string>> label_tokens;
    size_t prompt_rows = 20;  // P
    PromptInit init = PromptInit::random;
    std::string init_text;     // for PromptInit::text
    size_t max_length = 1000;  // tokens kept per text (also capped at n_positions − P)
    TrainerOptions trainer;    // loss, head kind, optimiser, schedule, batch, epochs, seed, threads
    double checkpoint_seconds = 30;  // 0 = after every step
    bool overwrite = false;          // replace another run's outputs in OUT instead of refusing
    size_t abort_after_steps = 0;    // tests: stop (as if killed) after this many steps
};

struct EpochRecord {
    size_t epoch = 0;        // 0 = before training
    double train_loss = -1;  // mean over the epoch's batches (−1 for epoch 0)
    Validation validation;
    bool best = false;
};

struct TrainJobResult {
    bool already_complete = false;
    bool resumed = false;
    size_t resumed_at_step = 0;
    bool aborted = false;  // abort_after_steps was reached
    size_t train_rows = 0, validation_rows = 0, steps = 0;
    std::vector<std::string> classes;
    std::vector<EpochRecord> epochs;  // those run now (with epoch 0 when starting fresh)
    size_t best_epoch = 0;
    double best_score = -1;
    double margin = 0;  // the distance loss's margin, when it was chosen automatically
    double seconds = 0;
};

// What the loss sees when the user does not say: the label-token logits for the token loss, the
// final hidden state for the others.
OutputKind default_output(LossKind loss);

TrainJobResult run_train_job(const TrainJob& job, const std::string& out_dir);

}  // namespace promptlens::train
