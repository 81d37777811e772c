// `promptlens train-prompt`: train a suffix soft prompt on labelled texts with GPT-2 frozen —
// the token, cosine, distance or contrastive loss — validating after every epoch and saving the
// best and last prompts where `extract` and studies can load them. The run is
// train/train_job.hpp; this file turns flags into it and prints the summary.
#include <fmt/format.h>

#include <cstdlib>

#include "apps/commands.hpp"
#include "apps/common.hpp"
#include "apps/text_inputs.hpp"
#include "core/error.hpp"
#include "model/gpt2_cpu_gemm.hpp"
#include "train/train_job.hpp"

namespace promptlens::cli {
namespace {

struct TrainFlags {
    ModelFlags model;
    DatasetFlags dataset;
    std::string data, validation_data, out, label_tokens;
    double validation_fraction = 0.2;
    std::string loss = "token", output, init = "random", init_text;
    double margin = 0, temperature = 0.1;
    size_t prompt_length = 20, max_length = 1000, batch_size = 8, epochs = 5, warmup_steps = 0,
           knn_k = 10;
    std::string optimizer = "adam", schedule = "constant", grad_engine = "cpu", precision = "fp32";
    double learning_rate = 3e-2, weight_decay = -1, clip_norm = 1.0, checkpoint_seconds = 30;
    uint64_t seed = 0;
    bool overwrite = false;
    int threads = 1;
};

train::TrainJob job_of(const TrainFlags& f) {
    train::TrainJob job;
    job.model = model_folder(f.model.model, f.model.download).string();
    job.tokenizer = f.model.tokenizer;
    job.data = f.data;
    job.validation_data = f.validation_data;
    job.dataset = dataset_options(f.dataset);
    job.validation_fraction = f.validation_fraction;
    if (!f.label_tokens.empty()) {
        job.label_tokens = parse_name_pairs(f.label_tokens, "--label-tokens");
    }
    job.prompt_rows = f.prompt_length;
    job.init = train::parse_prompt_init(f.init);
    job.init_text = f.init_text;
    require(job.init != train::PromptInit::text || !f.init_text.empty(),
            "--init text needs --init-text TEXT");
    require(job.init == train::PromptInit::text || f.init_text.empty(),
            "--init-text is used with --init text only");
    job.max_length = f.max_length;
    auto& t = job.trainer;
    t.loss.kind = train::parse_loss_kind(f.loss);
    t.loss.margin = f.margin;
    t.loss.temperature = f.temperature;
    if (t.loss.kind == train::LossKind::distance) {
        require(f.margin >= 0, "--margin of the distance loss must be positive (0 = automatic)");
    }
    t.head.kind =
        f.output.empty() ? train::default_output(t.loss.kind) : train::parse_output_kind(f.output);
    t.adam.learning_rate = f.learning_rate;
    t.adam.weight_decay =
        f.weight_decay >= 0 ? f.weight_decay : (f.optimizer == "adamw" ? 0.01 : 0.0);
    require(f.optimizer == "adamw" || t.adam.weight_decay == 0,
            "--weight-decay needs --optimizer adamw (Adam has no decoupled decay)");
    t.adam.clip_norm = f.clip_norm;
    t.schedule = train::parse_schedule(f.schedule);
    t.warmup_steps = f.warmup_steps;
    t.batch_size = f.batch_size;
    t.epochs = f.epochs;
    t.seed = f.seed;
    t.threads = f.threads;
    t.knn_k = f.knn_k;
    t.precision = parse_precision(f.precision);
    t.engine = f.grad_engine == "reference" ? train::GradEngine::reference : train::GradEngine::cpu;
    job.checkpoint_seconds = f.checkpoint_seconds;
    job.overwrite = f.overwrite;
    if (const char* a = std::getenv("PROMPTLENS_TEST_ABORT_AFTER_STEPS")) {
        job.abort_after_steps = std::strtoul(a, nullptr, 10);
    }
    return job;
}

void run_train_command(const TrainFlags& f) {
    check_output_paths({f.out + "/train.json"});
    const train::TrainJob job = job_of(f);
    const train::TrainJobResult r = train::run_train_job(job, f.out);
    if (r.already_complete) {
        fmt::print("train-prompt: {} already holds this training run; nothing to do\n", f.out);
        return;
    }
    if (r.aborted) {
        fmt::print("train-prompt: stopped as asked after step {} of {}; rerun to resume\n",
                   r.resumed_at_step + job.abort_after_steps, r.steps);
        return;
    }
    fmt::print(
        "train-prompt: {} training and {} validation texts, classes {}, {} steps{} in "
        "{:.2f} s; best epoch {} (score {:.4f}) -> {}/prompt-best.npy, prompt-last.npy\n",
        r.train_rows, r.validation_rows, fmt::join(r.classes, ", "), r.steps,
        r.resumed ? fmt::format(" (resumed at step {})", r.resumed_at_step) : "", r.seconds,
        r.best_epoch, r.best_score, f.out);
    if (r.margin > 0)
        fmt::print("train-prompt: distance margin chosen automatically: {:.6g}\n", r.margin);
}

}  // namespace

void setup_train_prompt(CLI::App& app) {
    auto f = std::make_shared<TrainFlags>();
    auto* sub = app.add_subcommand(
        "train-prompt",
        "Train a soft prompt on labelled texts (GPT-2 frozen): token, cosine, distance or "
        "contrastive loss; best and last prompts as .npy/.safetensors");
    add_model_options(sub, f->model);
    sub->add_option("--data", f->data, "Labelled training texts (the formats of `extract --data`)")
        ->required();
    sub->add_option(
        "--validation-data", f->validation_data,
        "Labelled validation texts (default: hold out --validation-fraction of --data)");
    sub->add_option("--validation-fraction", f->validation_fraction,
                    "Share of each class held out for validation when there is no "
                    "--validation-data (seeded)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 0.95));
    add_dataset_options(sub, f->dataset, false);
    sub->add_option("--label-tokens", f->label_tokens,
                    "LABEL=TOKEN,...: the token whose logit votes for each label (default: each "
                    "label's own token, e.g. good=good,bad=bad)");
    sub->add_option("--out", f->out,
                    "Output folder (prompts, history.jsonl, train.json, checkpoint)")
        ->required();
    sub->add_option("--loss", f->loss,
                    "token: cross-entropy of the label tokens; cosine / distance: pull same labels "
                    "together, push others apart (pairs of a batch); contrastive: supervised "
                    "contrastive with a temperature (docs/training.md has the formulas)")
        ->capture_default_str()
        ->check(CLI::IsMember({"token", "cosine", "distance", "contrastive"}));
    sub->add_option("--output", f->output,
                    "What the loss sees: hidden (last hidden state), logits (full vocabulary) or "
                    "label-logits (the label tokens' logits); default label-logits for token, "
                    "hidden otherwise")
        ->check(CLI::IsMember({"hidden", "logits", "label-logits"}));
    sub->add_option("--margin", f->margin,
                    "cosine: different labels pay max(0, cos - margin) (default 0); distance: "
                    "they pay max(0, margin - d) (default 0 = the mean pairwise output distance "
                    "of 64 training texts under the initial prompt)")
        ->capture_default_str();
    sub->add_option("--temperature", f->temperature, "contrastive: temperature tau")
        ->capture_default_str()
        ->check(kPositive);
    sub->add_option("--prompt-length", f->prompt_length, "Prompt rows P")
        ->capture_default_str()
        ->check(kPositive);
    sub->add_option("--init", f->init,
                    "Initial prompt: random (normal at wte's scale), vocab (embeddings of common "
                    "tokens) or text (--init-text's token embeddings, repeated to P rows)")
        ->capture_default_str()
        ->check(CLI::IsMember({"random", "vocab", "text"}));
    sub->add_option("--init-text", f->init_text, "The text of --init text");
    sub->add_option("--max-length", f->max_length,
                    "Keep at most this many tokens of each text, dropping the end (0 = all; "
                    "always at most n_positions - P)")
        ->capture_default_str();
    sub->add_option("--optimizer", f->optimizer, "adam or adamw (decoupled weight decay)")
        ->capture_default_str()
        ->check(CLI::IsMember({"adam", "adamw"}));
    sub->add_option("--learning-rate", f->learning_rate, "Peak learning rate")
        ->capture_default_str()
        ->check(kPositive);
    sub->add_option("--weight-decay", f->weight_decay, "AdamW weight decay (default 0.01)");
    sub->add_option("--schedule", f->schedule,
                    "Learning rate after warm-up: constant, or a linear / cosine decay to 0")
        ->capture_default_str()
        ->check(CLI::IsMember({"constant", "linear", "cosine"}));
    sub->add_option("--warmup-steps", f->warmup_steps, "Linear warm-up steps")
        ->capture_default_str();
    sub->add_option("--clip-norm", f->clip_norm, "Clip the gradient to this L2 norm (0 = off)")
        ->capture_default_str()
        ->check(kNonNegative);
    sub->add_option("--batch-size", f->batch_size, "Texts per step")
        ->capture_default_str()
        ->check(kPositive);
    sub->add_option("--epochs", f->epochs, "Passes over the training texts")
        ->capture_default_str()
        ->check(kPositive);
    sub->add_option("--knn-k", f->knn_k, "k of the validation k-NN accuracy")
        ->capture_default_str()
        ->check(kPositive);
    sub->add_option("--checkpoint-seconds", f->checkpoint_seconds,
                    "Save the resumable state at most this often (0 = every step; always after "
                    "each epoch); a killed run resumes from it")
        ->capture_default_str()
        ->check(kNonNegative);
    sub->add_option("--grad-engine", f->grad_engine,
                    "cpu (batched fp32, fast) or reference (double precision, one text at a time: "
                    "the yardstick, slow)")
        ->capture_default_str()
        ->check(CLI::IsMember({"cpu", "reference"}));
    sub->add_option("--precision", f->precision,
                    "fp32, or bf16: text passes, validation and the forward GEMMs in bf16 (about "
                    "1.9x faster per step on CPUs with AVX-512 BF16, the same speed elsewhere; "
                    "~1e-2 relative error), "
                    "backward GEMMs in fp32")
        ->capture_default_str()
        ->check(CLI::IsMember({"fp32", "bf16"}));
    sub->add_flag("--overwrite", f->overwrite,
                  "Replace another training run's outputs in --out instead of refusing");
    add_seed_option(sub, f->seed);
    add_threads_option(sub, f->threads);
    sub->callback([f] { run_train_command(*f); });
}

}  // namespace promptlens::cli
