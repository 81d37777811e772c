// The resumable state of a training run, saved as OUT/checkpoint.safetensors: the prompt and the
// Adam moments as float64 tensors (so a resumed run continues bit for bit), and in the metadata the
// run's identity, its position (epoch, batch), the running loss of the unfinished epoch, the best
// validation score so far and the history lines already written. Written atomically (temporary +
// rename), so a killed run leaves either the previous checkpoint or the new one.
#pragma once

#include <filesystem>
#include <string>

#include "core/matrix.hpp"
#include "train/adam.hpp"
#include "train/trainer.hpp"

namespace promptlens::train {

struct TrainState {
    std::string identity;  // hash of model, data and options: a checkpoint only resumes its run
    MatrixD prompt;
    AdamState adam;
    TrainPosition position;
    double epoch_loss_sum = 0;  // Σ batch loss × rows over the unfinished epoch's batches
    size_t epoch_rows = 0;
    double best_score = -1;  // the best validation score so far (see train_job.hpp)
    size_t best_epoch = 0;   // its epoch (0 = the initial prompt)
    std::string history;     // history.jsonl as written so far
    double seconds = 0;      // training time before this run
};

void save_train_state(const std::filesystem::path& path, const TrainState& state);

// Throws an Error naming the file when it is not a checkpoint this version wrote.
TrainState load_train_state(const std::filesystem::path& path);

}  // namespace promptlens::train
