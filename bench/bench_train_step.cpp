// Times one soft-prompt training step of promptlens (train/trainer.hpp): the batch's text pass
// without gradients, the prompt pass forward and backward to the prompt, Adam — on the data that
// bench/train_step_peer.py writes (token ids [B, T], prompt [P, C], classes [B]) so the PyTorch
// peer computes the same step. The batch is the whole data set, so every step sees the same texts.
//
//   promptlens_bench_train_step --model DIR --data DIR [--steps 3] [--threads 2]
//                               [--engine cpu|reference] [--precision fp32|bf16]
//                               [--out-grad FILE.npy]
//
// Prints the time of each step and the best; --out-grad writes the first step's gradient.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

#include "core/memory.hpp"
#include "core/npy.hpp"
#include "model/gpt2_weights.hpp"
#include "timing.hpp"
#include "train/trainer.hpp"

using namespace promptlens;

int main(int argc, char** argv) {
    promptlens::retain_freed_memory();
    std::string model, data, out_grad, engine = "cpu", precision = "fp32";
    size_t steps = 3;
    int threads = 2;
    CLI::App app("promptlens: time one soft-prompt training step");
    app.add_option("--model", model)->required();
    app.add_option("--data", data, "folder with ids.npy, prompt.npy, classes.npy")->required();
    app.add_option("--steps", steps);
    app.add_option("--threads", threads);
    app.add_option("--engine", engine)->check(CLI::IsMember({"cpu", "reference"}));
    app.add_option("--out-grad", out_grad);
    app.add_option("--precision", precision, "bf16: forward passes in bf16, backward GEMMs fp32")
        ->check(CLI::IsMember({"fp32", "bf16"}));
    CLI11_PARSE(app, argc, argv);
    try {
        const Gpt2Weights w = load_gpt2_model(model);
        const Matrix ids = read_npy_matrix(data + "/ids.npy");  // B×T (float32 holds ids < 2^24)
        const Matrix p = read_npy_matrix(data + "/prompt.npy");
        const auto classes = read_npy_ints(data + "/classes.npy");
        train::TrainSet set;
        for (size_t b = 0; b < ids.rows(); ++b) {
            std::vector<int32_t> row;
            for (float v : ids.row(b)) row.push_back(int32_t(v));
            set.texts.add(row);
            set.classes.push_back(int32_t(classes[b]));
        }
        train::TrainerOptions o;
        o.loss.kind = train::LossKind::token;
        o.head = {train::OutputKind::label_logits, {11274, 14774}};  // "good", "bad"
        o.label_token_ids = o.head.token_ids;
        o.batch_size = ids.rows();
        o.epochs = steps;
        o.threads = threads;
        o.precision = parse_precision(precision);
        o.engine = engine == "cpu" ? train::GradEngine::cpu : train::GradEngine::reference;
        MatrixD prompt(p.rows(), p.cols());
        for (size_t i = 0; i < p.size(); ++i) prompt.data()[i] = p.data()[i];
        const train::TrainSet none;
        train::PromptTrainer trainer(w, set, none, o, prompt);
        double best = 1e30;
        for (size_t s = 0; s < steps; ++s) {
            const auto t0 = std::chrono::steady_clock::now();
            const double loss = trainer.train_step();
            const double sec =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            best = std::min(best, sec);
            std::printf("promptlens step %zu: %.3f s, loss %.6f\n", s + 1, sec, loss);
            if (s == 0 && !out_grad.empty()) {
                Matrix g(p.rows(), p.cols());
                for (size_t i = 0; i < g.size(); ++i)
                    g.data()[i] = float(trainer.last_gradient()[i]);
                write_npy(out_grad, g);
            }
        }
        std::printf(
            "promptlens best step: %.3f s (%s, precision %s, %d threads, B=%zu, T=%zu, P=%zu)\n",
            best, engine.c_str(), precision.c_str(), threads, ids.rows(), ids.cols(), p.rows());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "promptlens_bench_train_step: %s\n", e.what());
        return 1;
    }
}
