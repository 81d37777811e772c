#include "train/trainer.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "metrics/knn_accuracy.hpp"
#include "train/prompt_grad_cpu.hpp"
#include "train/prompt_grad_reference.hpp"

namespace promptlens::train {
namespace {

PackedTokens pick(const PackedTokens& all, std::span<const size_t> rows) {
    PackedTokens out;
    for (size_t r : rows) out.add(all.sequence(r));
    return out;
}

Matrix to_float(const MatrixD& m) {
    Matrix f(m.rows(), m.cols());
    for (size_t i = 0; i < m.size(); ++i) f.data()[i] = float(m.data()[i]);
    return f;
}

void check_set(const TrainSet& s, const char* what, size_t n_positions, size_t prompt_rows) {
    require(s.classes.size() == s.texts.count(), "training: the {} set has {} texts but {} labels",
            what, s.texts.count(), s.classes.size());
    for (size_t i = 0; i < s.texts.count(); ++i) {
        require(s.texts.length(i) >= 1 && s.texts.length(i) + prompt_rows <= n_positions,
                "training: {} text {} has {} tokens; with the {}-row prompt at most {} fit the "
                "model's {} positions",
                what, i, s.texts.length(i), prompt_rows, n_positions - prompt_rows, n_positions);
    }
}

}  // namespace

PromptTrainer::PromptTrainer(const Gpt2Weights& w, const TrainSet& train,
                             const TrainSet& validation, TrainerOptions options, MatrixD prompt)
    : w_(w),
      train_(train),
      val_(validation),
      options_(std::move(options)),
      fwd_(w, options_.precision),
      prompt_(std::move(prompt)) {
    require(prompt_.cols() == w.config.n_embd && prompt_.rows() >= 1,
            "training: the prompt is {}×{} but the model's n_embd is {}", prompt_.rows(),
            prompt_.cols(), w.config.n_embd);
    require(train_.texts.count() >= 1, "training: the training set is empty");
    require(options_.batch_size >= 1, "training: the batch size must be at least 1");
    require(options_.epochs >= 1, "training: at least one epoch");
    check_set(train_, "training", w.config.n_positions, prompt_.rows());
    check_set(val_, "validation", w.config.n_positions, prompt_.rows());
    if (options_.loss.kind != LossKind::token) {
        require(options_.batch_size >= 2,
                "training: the {} loss compares rows of a batch; the batch size must be at "
                "least 2",
                loss_kind_name(options_.loss.kind));
    } else {
        require(options_.head.kind != OutputKind::hidden,
                "training: the token loss needs logits (label-logits or logits), not the hidden "
                "state");
    }
}

size_t PromptTrainer::batches_per_epoch() const {
    return chunk_count(train_.texts.count(), options_.batch_size);
}

std::vector<size_t> PromptTrainer::epoch_order(size_t epoch) const {
    std::vector<size_t> order(train_.texts.count());
    std::iota(order.begin(), order.end(), size_t{0});
    Rng rng(options_.seed, 1000 + epoch);
    for (size_t i = order.size(); i > 1; --i) {  // Fisher-Yates
        const size_t j = std::min(size_t(rng.uniform() * double(i)), i - 1);
        std::swap(order[i - 1], order[j]);
    }
    return order;
}

void PromptTrainer::restore(MatrixD prompt, AdamState adam, TrainPosition position) {
    require(prompt.rows() == prompt_.rows() && prompt.cols() == prompt_.cols(),
            "training: the restored prompt is {}×{}, expected {}×{}", prompt.rows(), prompt.cols(),
            prompt_.rows(), prompt_.cols());
    require(position.batch < batches_per_epoch() || position.batch == 0,
            "training: the restored position (batch {}) is past the epoch's {} batches",
            position.batch, batches_per_epoch());
    prompt_ = std::move(prompt);
    adam_ = std::move(adam);
    position_ = position;
}

double PromptTrainer::train_step() {
    require(!finished(), "training: all {} epochs are done", options_.epochs);
    if (order_epoch_ != position_.epoch) {
        order_ = epoch_order(position_.epoch);
        order_epoch_ = position_.epoch;
    }
    const size_t begin = position_.batch * options_.batch_size;
    const size_t end = std::min(order_.size(), begin + options_.batch_size);
    const std::span<const size_t> rows(order_.data() + begin, end - begin);
    const size_t B = rows.size();

    // Text pass without gradients, then each row's prompt pass with its tape.
    const PackedKvCache packed = cpu_text_pass(fwd_, pick(train_.texts, rows), options_.threads);
    std::vector<int32_t> targets(B);
    for (size_t r = 0; r < B; ++r) {
        const int32_t cls = train_.classes[rows[r]];
        targets[r] = cls;
        if (options_.loss.kind == LossKind::token && options_.head.kind == OutputKind::logits) {
            require(size_t(cls) < options_.label_token_ids.size(),
                    "training: class {} has no label token for the full-vocabulary token loss",
                    cls);
            targets[r] = options_.label_token_ids[size_t(cls)];
        }
    }
    std::vector<double> grad(prompt_.size(), 0.0);
    double loss_value = 0;
    auto loss_of = [&](const std::vector<std::vector<double>>& last_hidden) {
        std::vector<std::vector<double>> out(B);
        parallel_for(B, options_.threads,
                     [&](size_t r) { out[r] = head_forward(w_, options_.head, last_hidden[r]); });
        MatrixD z(B, out[0].size());
        for (size_t r = 0; r < B; ++r) std::copy(out[r].begin(), out[r].end(), z.row(r).begin());
        LossValue loss = compute_loss(options_.loss, z, targets);
        loss_value = loss.value;
        std::vector<std::vector<double>> dh(B);
        parallel_for(B, options_.threads,
                     [&](size_t r) { dh[r] = head_backward(w_, options_.head, loss.grad.row(r)); });
        return dh;
    };
    if (options_.engine == GradEngine::cpu) {
        PromptGradCpu fast(fwd_);  // bf16 forward GEMMs when asked; backward in fp32
        const Matrix last = fast.forward(packed, to_float(prompt_), options_.threads);
        std::vector<std::vector<double>> hidden(B);
        for (size_t r = 0; r < B; ++r) hidden[r].assign(last.row(r).begin(), last.row(r).end());
        const auto dh = loss_of(hidden);
        Matrix d_last(B, w_.config.n_embd);
        for (size_t r = 0; r < B; ++r) {
            for (size_t c = 0; c < d_last.cols(); ++c) d_last(r, c) = float(dh[r][c]);
        }
        const MatrixD g = fast.backward(d_last, options_.threads);
        std::copy(g.values().begin(), g.values().end(), grad.begin());
    } else {
        std::vector<KvCache> caches(B);
        std::vector<PromptTape> tapes(B);
        parallel_for(B, options_.threads, [&](size_t r) {
            caches[r] = packed.sequence(r);
            tapes[r] = reference_prompt_forward(w_, caches[r], prompt_);
        });
        std::vector<std::vector<double>> hidden(B);
        for (size_t r = 0; r < B; ++r) hidden[r] = tapes[r].last_hidden;
        const auto dh = loss_of(hidden);
        std::vector<MatrixD> grads(B);
        parallel_for(B, options_.threads, [&](size_t r) {
            grads[r] = reference_prompt_backward(w_, caches[r], tapes[r], dh[r]);
        });
        for (const auto& g : grads) {  // row order: independent of the thread count
            for (size_t k = 0; k < grad.size(); ++k) grad[k] += g.data()[k];
        }
    }
    const size_t step = position_.epoch * batches_per_epoch() + position_.batch;
    last_rate_ = scheduled_rate(options_.adam.learning_rate, options_.schedule, step,
                                options_.warmup_steps, total_steps());
    last_grad_ = grad;
    last_grad_norm_ = adam_step(options_.adam, last_rate_, prompt_.values(), grad, adam_).grad_norm;

    if (++position_.batch == batches_per_epoch()) {
        position_.batch = 0;
        ++position_.epoch;
    }
    return loss_value;
}

Validation PromptTrainer::validate(const MatrixD& prompt) const {
    Validation v;
    const size_t N = val_.texts.count();
    if (N == 0) return v;
    const Matrix pf = to_float(prompt);
    const bool full = options_.head.kind == OutputKind::logits;
    const std::vector<int32_t>& label_ids = options_.label_token_ids;
    BatchPromptOptions po;
    if (full) {
        po.logits = LogitsRequest::full;
    } else if (!label_ids.empty() || options_.head.kind == OutputKind::label_logits) {
        po.logits = LogitsRequest::selected;
        po.logit_token_ids =
            options_.head.kind == OutputKind::label_logits ? options_.head.token_ids : label_ids;
    }
    const size_t C = w_.config.n_embd;
    const size_t D = output_width(w_, options_.head);
    Matrix hidden(N, C);
    MatrixD z(N, D);
    std::vector<int32_t> predicted(N, -1);
    std::vector<size_t> lengths(N);
    for (size_t i = 0; i < N; ++i) lengths[i] = val_.texts.length(i);
    for (const auto& chunk : length_sorted_chunks(lengths, 4096)) {
        const PackedKvCache cache = cpu_text_pass(fwd_, pick(val_.texts, chunk), options_.threads);
        const BatchPromptResult r = cpu_prompt_pass(fwd_, cache, pf, po, options_.threads);
        for (size_t k = 0; k < chunk.size(); ++k) {
            const size_t i = chunk[k];
            std::copy(r.last_hidden.row(k).begin(), r.last_hidden.row(k).end(),
                      hidden.row(i).begin());
            auto zr = z.row(i);
            if (options_.head.kind == OutputKind::hidden) {
                std::copy(r.last_hidden.row(k).begin(), r.last_hidden.row(k).end(), zr.begin());
            } else {
                std::copy(r.logits.row(k).begin(), r.logits.row(k).end(), zr.begin());
            }
            if (!label_ids.empty()) {
                // The label-token logits: columns of the full logits, or the selected ones.
                double best = -INFINITY;
                for (size_t c = 0; c < label_ids.size(); ++c) {
                    const double s = full ? r.logits(k, size_t(label_ids[c])) : r.logits(k, c);
                    if (s > best) {
                        best = s;
                        predicted[i] = int32_t(c);
                    }
                }
            }
        }
    }
    // Loss over consecutive batches, weighted by their rows.
    for (size_t b = 0; b < N; b += options_.batch_size) {
        const size_t e = std::min(N, b + options_.batch_size);
        MatrixD zb(e - b, D);
        std::vector<int32_t> t(e - b);
        for (size_t i = b; i < e; ++i) {
            std::copy(z.row(i).begin(), z.row(i).end(), zb.row(i - b).begin());
            t[i - b] = val_.classes[i];
            if (options_.loss.kind == LossKind::token && full)
                t[i - b] = label_ids[size_t(t[i - b])];
        }
        v.loss += compute_loss(options_.loss, zb, t).value * double(e - b) / double(N);
    }
    if (!label_ids.empty()) {
        size_t right = 0;
        for (size_t i = 0; i < N; ++i) right += predicted[i] == val_.classes[i];
        v.token_accuracy = double(right) / double(N);
    }
    // k-NN accuracy needs 5 folds with k neighbours in each training split.
    std::vector<size_t> counts;
    for (int32_t c : val_.classes) {
        if (size_t(c) >= counts.size()) counts.resize(size_t(c) + 1);
        ++counts[size_t(c)];
    }
    const size_t k = std::min(options_.knn_k, N * 4 / 5 > 0 ? N * 4 / 5 - 1 : 0);
    if (N >= 10 && k >= 1 && *std::max_element(counts.begin(), counts.end()) >= 5) {
        v.knn_accuracy = knn_cv_accuracy(hidden, val_.classes, k, 5, options_.threads).mean;
    }
    return v;
}

}  // namespace promptlens::train
