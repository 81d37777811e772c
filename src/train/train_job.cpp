#include "train/train_job.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/npy.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"
#include "extract/content_hash.hpp"
#include "extract/extract_job.hpp"
#include "extract/extractor.hpp"
#include "model/safetensors.hpp"
#include "text/gpt2_tokenizer.hpp"
#include "train/train_state.hpp"

namespace promptlens::train {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

// Rows held out for validation: per class a seeded choice of round(fraction × count) rows (at
// least one when the class has two or more), both sets kept in dataset order.
std::pair<TextDataset, TextDataset> split_dataset(const TextDataset& ds, double fraction,
                                                  uint64_t seed) {
    std::map<std::string, std::vector<size_t>> by_class;
    for (size_t i = 0; i < ds.rows.size(); ++i) by_class[ds.rows[i].label].push_back(i);
    std::vector<bool> held(ds.rows.size(), false);
    Rng rng(seed, 77);
    for (auto& [label, rows] : by_class) {
        for (size_t i = rows.size(); i > 1; --i) {
            std::swap(rows[i - 1], rows[std::min(size_t(rng.uniform() * double(i)), i - 1)]);
        }
        size_t n = size_t(std::lround(fraction * double(rows.size())));
        if (n == 0 && fraction > 0 && rows.size() >= 2) n = 1;
        n = std::min(n, rows.size() - 1);  // every class keeps a training row
        for (size_t k = 0; k < n; ++k) held[rows[k]] = true;
    }
    TextDataset train{{}, ds.format, ds.has_labels}, val{{}, ds.format, ds.has_labels};
    for (size_t i = 0; i < ds.rows.size(); ++i) (held[i] ? val : train).rows.push_back(ds.rows[i]);
    return {std::move(train), std::move(val)};
}

TrainSet make_set(const text::Gpt2Tokenizer& tok, const TextDataset& ds,
                  const std::vector<std::string>& classes, size_t max_length, int threads,
                  const std::string& what) {
    TrainSet s;
    s.texts = tokenize_rows(tok, ds, max_length, threads).tokens;
    for (const auto& r : ds.rows) {
        const auto it = std::find(classes.begin(), classes.end(), r.label);
        require(it != classes.end(),
                "{}: label '{}' of the {} set is not a class of the training "
                "set ({})",
                r.source, r.label, what, fmt::join(classes, ", "));
        s.classes.push_back(int32_t(it - classes.begin()));
    }
    return s;
}

// The mean pairwise distance between the outputs of (up to) the first 64 training rows under the
// initial prompt: the distance loss's margin when none is given.
double mean_output_distance(const Gpt2Weights& w, const TrainSet& train, const TrainerOptions& o,
                            const MatrixD& prompt) {
    const size_t n = std::min<size_t>(64, train.texts.count());
    PackedTokens texts;
    for (size_t i = 0; i < n; ++i) texts.add(train.texts.sequence(i));
    Matrix pf(prompt.rows(), prompt.cols());
    for (size_t i = 0; i < pf.size(); ++i) pf.data()[i] = float(prompt.data()[i]);
    const Gpt2CpuModel cpu(w, Precision::fp32);
    BatchPromptOptions po;
    if (o.head.kind == OutputKind::logits) po.logits = LogitsRequest::full;
    if (o.head.kind == OutputKind::label_logits) {
        po.logits = LogitsRequest::selected;
        po.logit_token_ids = o.head.token_ids;
    }
    const auto r = cpu_prompt_pass(cpu, cpu_text_pass(cpu, texts, o.threads), pf, po, o.threads);
    const Matrix& z = o.head.kind == OutputKind::hidden ? r.last_hidden : r.logits;
    double sum = 0;
    size_t pairs = 0;
    for (size_t i = 0; i < n; ++i) {
        for (size_t j = i + 1; j < n; ++j) {
            double sq = 0;
            for (size_t c = 0; c < z.cols(); ++c) {
                const double d = double(z(i, c)) - z(j, c);
                sq += d * d;
            }
            sum += std::sqrt(sq);
            ++pairs;
        }
    }
    return pairs ? sum / double(pairs) : 1.0;
}

json options_json(const TrainJob& job, const TrainerOptions& o,
                  const std::vector<std::string>& classes,
                  const std::vector<LabelToken>& label_tokens, size_t max_length) {
    json lt = json::array();
    for (const auto& t : label_tokens) {
        lt.push_back({{"label", t.label}, {"token", t.token.name}, {"id", t.token.id}});
    }
    return {
        {"loss", loss_kind_name(o.loss.kind)},
        {"output", output_kind_name(o.head.kind)},
        {"margin", o.loss.margin},
        {"temperature", o.loss.temperature},
        {"prompt_rows", job.prompt_rows},
        {"init", prompt_init_name(job.init)},
        {"init_text", job.init_text},
        {"optimizer", o.adam.weight_decay > 0 ? "adamw" : "adam"},
        {"learning_rate", o.adam.learning_rate},
        {"beta1", o.adam.beta1},
        {"beta2", o.adam.beta2},
        {"eps", o.adam.eps},
        {"weight_decay", o.adam.weight_decay},
        {"clip_norm", o.adam.clip_norm},
        {"schedule", schedule_name(o.schedule)},
        {"warmup_steps", o.warmup_steps},
        {"batch_size", o.batch_size},
        {"epochs", o.epochs},
        {"seed", o.seed},
        {"knn_k", o.knn_k},
        {"grad_engine", o.engine == GradEngine::cpu ? "cpu" : "reference"},
        {"precision", precision_name(o.precision)},
        {"max_length", max_length},
        {"validation_fraction", job.validation_data.empty() ? job.validation_fraction : 0.0},
        {"classes", classes},
        {"label_tokens", lt},
    };
}

uint64_t set_hash(const TrainSet& s) {
    ContentHash h;
    h.span(std::span<const int32_t>(s.texts.ids));
    h.span(std::span<const size_t>(s.texts.offsets));
    h.span(std::span<const int32_t>(s.classes));
    return h.value();
}

double score_of(const Validation& v, LossKind kind) {
    return kind == LossKind::token ? v.token_accuracy : v.knn_accuracy;
}

json number_or_null(double v, bool valid) {
    return valid ? json(v) : json(nullptr);
}

std::string history_line(const EpochRecord& e, size_t step, double rate, double seconds) {
    const Validation& v = e.validation;
    json j{{"epoch", e.epoch},
           {"step", step},
           {"train_loss", number_or_null(e.train_loss, e.train_loss >= 0)},
           {"validation_loss", v.loss},
           {"validation_token_accuracy", number_or_null(v.token_accuracy, v.token_accuracy >= 0)},
           {"validation_knn_accuracy", number_or_null(v.knn_accuracy, v.knn_accuracy >= 0)},
           {"best", e.best},
           {"learning_rate", rate},
           {"seconds", seconds}};
    return j.dump() + "\n";
}

void write_prompt(const fs::path& base, const MatrixD& prompt) {
    Matrix f(prompt.rows(), prompt.cols());
    for (size_t i = 0; i < f.size(); ++i) f.data()[i] = float(prompt.data()[i]);
    write_npy(fs::path(base).replace_extension(".npy"), f);
    const std::vector<TensorToWrite> t{
        {"prompt",
         TensorDType::F32,
         {1, f.rows(), f.cols()},
         {reinterpret_cast<const std::byte*>(f.data()), f.size() * sizeof(float)}}};
    write_safetensors(fs::path(base).replace_extension(".safetensors"), t,
                      {{"format", "pt"}, {"producer", "promptlens train-prompt"}});
}

std::string format_validation(const Validation& v) {
    std::string s = fmt::format("validation loss {:.4f}", v.loss);
    if (v.token_accuracy >= 0) s += fmt::format(", label-token accuracy {:.3f}", v.token_accuracy);
    if (v.knn_accuracy >= 0) s += fmt::format(", k-NN accuracy {:.3f}", v.knn_accuracy);
    return s;
}

}  // namespace

OutputKind default_output(LossKind loss) {
    return loss == LossKind::token ? OutputKind::label_logits : OutputKind::hidden;
}

TrainJobResult run_train_job(const TrainJob& job, const std::string& out_dir) {
    const fs::path out(out_dir);
    require(job.prompt_rows >= 1, "train-prompt: the prompt needs at least one row");
    require(job.validation_fraction >= 0 && job.validation_fraction < 1,
            "train-prompt: the validation fraction must be in [0, 1), got {}",
            job.validation_fraction);
    TrainJobResult res;

    // Data first.
    const TextDataset all = load_text_dataset(job.data, job.dataset);
    require(all.has_labels, "{}: training needs labelled texts (every row with a label)", job.data);
    TextDataset train_ds, val_ds;
    if (job.validation_data.empty()) {
        std::tie(train_ds, val_ds) = split_dataset(all, job.validation_fraction, job.trainer.seed);
    } else {
        train_ds = all;
        val_ds = load_text_dataset(job.validation_data, job.dataset);
        require(val_ds.has_labels, "{}: validation needs labelled texts", job.validation_data);
    }

    const auto tok = text::Gpt2Tokenizer::load(job.tokenizer.empty() ? job.model : job.tokenizer);
    const Gpt2Weights w = load_gpt2_model(job.model);
    require(tok.vocab_size() <= w.config.vocab_size,
            "the tokenizer has {} tokens but the model's vocabulary has {}", tok.vocab_size(),
            w.config.vocab_size);
    require(job.prompt_rows < w.config.n_positions,
            "train-prompt: a {}-row prompt leaves no room for text in the model's {} positions",
            job.prompt_rows, w.config.n_positions);

    // Classes: the label tokens' order when there are tokens, else first appearance.
    const std::vector<LabelToken> label_tokens =
        resolve_label_tokens(tok, train_ds, job.label_tokens);
    std::vector<std::string> classes;
    for (const auto& t : label_tokens) classes.push_back(t.label);
    for (const auto& r : train_ds.rows) {
        if (std::find(classes.begin(), classes.end(), r.label) == classes.end()) {
            require(label_tokens.empty(),
                    "{}: label '{}' has no label token (--label-tokens gives "
                    "one per class)",
                    r.source, r.label);
            classes.push_back(r.label);
        }
    }
    require(classes.size() >= 2, "{}: training needs at least two classes, found {}", job.data,
            classes.size());
    res.classes = classes;

    TrainerOptions o = job.trainer;
    for (const auto& t : label_tokens) o.label_token_ids.push_back(t.token.id);
    if (o.head.kind == OutputKind::label_logits) {
        require(!label_tokens.empty(),
                "train-prompt: --output label-logits needs a token per class: the labels ({}) "
                "are not all vocabulary tokens; give --label-tokens LABEL=TOKEN,...",
                fmt::join(classes, ", "));
        o.head.token_ids = o.label_token_ids;
    }
    if (o.loss.kind == LossKind::token && o.head.kind == OutputKind::logits) {
        require(!label_tokens.empty(),
                "train-prompt: the token loss needs a label token per class; "
                "give --label-tokens LABEL=TOKEN,...");
    }

    const size_t max_length = std::min(job.max_length == 0 ? w.config.n_positions : job.max_length,
                                       w.config.n_positions - job.prompt_rows);
    const TrainSet train = make_set(tok, train_ds, classes, max_length, o.threads, "training");
    const TrainSet val = make_set(tok, val_ds, classes, max_length, o.threads, "validation");
    res.train_rows = train.texts.count();
    res.validation_rows = val.texts.count();

    std::vector<int32_t> init_ids;
    if (job.init == PromptInit::text) init_ids = tok.encode(job.init_text, {}, "--init-text");
    const MatrixD initial = initial_prompt(w, job.init, job.prompt_rows, o.seed, init_ids);
    if (o.loss.kind == LossKind::distance && o.loss.margin <= 0) {
        o.loss.margin = mean_output_distance(w, train, o, initial);
        res.margin = o.loss.margin;
    }

    const json options = options_json(job, o, classes, label_tokens, max_length);
    ContentHash id;
    id.text(gpt2_weights_hash(w)).text(tok.source()).text(options.dump());
    id.u64(set_hash(train)).u64(set_hash(val));
    for (double v : initial.values()) id.bytes(&v, sizeof v);
    const std::string identity = id.hex();

    // Resume, finish, or refuse another run's outputs.
    fs::create_directories(out);
    const fs::path ckpt = out / "checkpoint.safetensors", summary = out / "train.json";
    TrainState state;
    bool have_state = false;
    if (fs::exists(ckpt)) {
        TrainState old = load_train_state(ckpt);
        if (old.identity == identity) {
            state = std::move(old);
            have_state = true;
        } else {
            require(job.overwrite,
                    "{}: holds another training run (identity {}, this one {}); "
                    "use a new --out or --overwrite",
                    out.string(), old.identity, identity);
        }
    } else if (fs::exists(summary) && !job.overwrite) {
        const json j = json::parse(std::ifstream(summary), nullptr, false);
        require(!j.is_discarded() && j.value("identity", "") == identity,
                "{}: holds another training run; use a new --out or --overwrite", out.string());
    }

    PromptTrainer trainer(w, train, val, o, initial);
    res.steps = trainer.total_steps();
    const auto start = Clock::now();
    const double seconds_before = have_state ? state.seconds : 0.0;
    auto elapsed = [&] {
        return seconds_before + std::chrono::duration<double>(Clock::now() - start).count();
    };
    if (have_state) {
        trainer.restore(state.prompt, state.adam, state.position);
        res.resumed = true;
        res.resumed_at_step =
            state.position.epoch * trainer.batches_per_epoch() + state.position.batch;
        if (trainer.finished() && fs::exists(summary)) {
            res.already_complete = true;
            res.best_epoch = state.best_epoch;
            res.best_score = state.best_score;
            return res;
        }
    } else {
        state.identity = identity;
        EpochRecord e0{0, -1, trainer.validate(), true};
        state.best_score = score_of(e0.validation, o.loss.kind);
        state.best_epoch = 0;
        write_prompt(out / "prompt-best", trainer.prompt());
        state.history = history_line(e0, 0, 0.0, 0.0);
        res.epochs.push_back(e0);
        fmt::print("train-prompt: epoch 0 (initial prompt): {}\n",
                   format_validation(e0.validation));
        std::fflush(stdout);
    }
    auto save = [&] {
        state.prompt = trainer.prompt();
        state.adam = trainer.optimiser();
        state.position = trainer.position();
        state.seconds = elapsed();
        save_train_state(ckpt, state);
        write_text_file(out / "history.jsonl", state.history);
    };
    save();

    Progress progress("train-prompt", res.steps, "steps");
    auto last_save = Clock::now();
    size_t steps_now = 0;
    while (!trainer.finished()) {
        const size_t epoch = trainer.position().epoch;
        const size_t rows =
            std::min(o.batch_size, train.texts.count() - trainer.position().batch * o.batch_size);
        const double loss = trainer.train_step();
        state.epoch_loss_sum += loss * double(rows);
        state.epoch_rows += rows;
        ++steps_now;
        const size_t step =
            trainer.position().epoch * trainer.batches_per_epoch() + trainer.position().batch;
        progress.update(step, fmt::format("epoch {}/{} loss {:.4f}", epoch + 1, o.epochs, loss));
        if (trainer.position().epoch != epoch) {  // the epoch ended: validate, keep the best
            EpochRecord e{epoch + 1, state.epoch_loss_sum / double(state.epoch_rows),
                          trainer.validate(), false};
            const double score = score_of(e.validation, o.loss.kind);
            if (score > state.best_score) {
                e.best = true;
                state.best_score = score;
                state.best_epoch = e.epoch;
                write_prompt(out / "prompt-best", trainer.prompt());
            }
            state.epoch_loss_sum = 0;
            state.epoch_rows = 0;
            state.history += history_line(e, step, trainer.last_rate(), elapsed());
            res.epochs.push_back(e);
            write_prompt(out / "prompt-last", trainer.prompt());
            save();
            last_save = Clock::now();
            progress.update(step, "");
            fmt::print("train-prompt: epoch {}/{}: train loss {:.4f}, {}{} ({})\n", e.epoch,
                       o.epochs, e.train_loss, format_validation(e.validation),
                       e.best ? " (best)" : "", format_duration(elapsed()));
            std::fflush(stdout);
        } else if (std::chrono::duration<double>(Clock::now() - last_save).count() >=
                   job.checkpoint_seconds) {
            save();
            last_save = Clock::now();
        }
        if (job.abort_after_steps && steps_now >= job.abort_after_steps && !trainer.finished()) {
            save();
            res.aborted = true;
            return res;
        }
    }
    progress.finish();
    res.best_epoch = state.best_epoch;
    res.best_score = state.best_score;
    res.seconds = elapsed() - seconds_before;

    json done = {
        {"identity", identity},
        {"complete", true},
        {"model", job.model},
        {"data", job.data},
        {"validation_data", job.validation_data},
        {"train_rows", res.train_rows},
        {"validation_rows", res.validation_rows},
        {"steps", res.steps},
        {"best_epoch", state.best_epoch},
        {"best_score", state.best_score},
        {"best_score_is", o.loss.kind == LossKind::token ? "validation label-token accuracy"
                                                         : "validation k-NN accuracy"},
        {"seconds", elapsed()},
        {"options", options}};
    write_text_file(summary, done.dump(2) + "\n");
    return res;
}

}  // namespace promptlens::train
