#include "study/study_runner.hpp"

#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/npy.hpp"
#include "extract/extract_job.hpp"
#include "model/hub_cache.hpp"
#include "model/random_gpt2.hpp"
#include "plot/heatmap.hpp"
#include "plot/scatter.hpp"
#include "reduce/scaler.hpp"
#include "study/study_report.hpp"
#include "train/train_job.hpp"

namespace promptlens {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string fnv_hex(const std::string& text) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
    return fmt::format("{:016x}", h);
}

// The model folder to use: the one given (a folder or a hub name in the HuggingFace cache), or a
// random-weight GPT-2 written under OUT/model once per specification.
std::string prepare_model(const StudySpec& s, const StepCache& cache) {
    if (!s.model.random) return resolve_model_dir(s.model.path).string();
    const RandomModelSpec& r = s.model.random_spec;
    const fs::path dir = s.out / "model";
    const std::string key = fnv_hex(fmt::format(
        "{} {} {} {} {} {}", r.layers, r.heads, r.embd, r.positions, r.seed,
        fnv_hex(slurp(r.tokenizer / "vocab.json") + slurp(r.tokenizer / "merges.txt"))));
    if (!cache.fresh("model", key, {dir / "model.safetensors", dir / "config.json"})) {
        RandomGpt2Options o;
        o.layers = static_cast<size_t>(r.layers);
        o.heads = static_cast<size_t>(r.heads);
        o.embd = static_cast<size_t>(r.embd);
        o.positions = static_cast<size_t>(r.positions);
        o.seed = r.seed;
        o.tokenizer = r.tokenizer;
        write_random_gpt2(dir, o);
        cache.record("model", key);
    }
    return dir.string();
}

ExtractJob extract_job(const StudySpec& s, const std::string& model, int threads) {
    ExtractJob job;
    job.model = model;
    job.tokenizer = s.model.tokenizer.string();
    job.data = s.data.path.string();
    job.dataset.format = s.data.format;
    job.dataset.text_column = s.data.text_column;
    job.dataset.label_column = s.data.label_column;
    job.dataset.subdir = s.data.subdir;
    if (!s.data.label_folders.empty()) {
        job.dataset.label_folders = parse_name_pairs(s.data.label_folders, "data.label_folders");
    }
    job.sample = s.data.sample;
    job.sample_seed = s.seed;
    for (const auto& p : s.prompts) {
        if (p.text.empty()) {
            job.prompt_files.emplace_back(p.name, p.file.string());
        } else {
            job.text_prompts.emplace_back(p.name, p.text);
        }
    }
    for (const auto& [label, token] : s.extract.label_tokens)
        job.label_tokens.emplace_back(label, token);
    job.hidden = s.extract.hidden;
    job.logits = s.extract.logits;
    job.logits_full = s.extract.logits_full;
    job.logits_tokens = s.extract.logits_tokens;
    job.max_length = s.data.max_length;
    job.threads = threads;
    job.options.positions = parse_position_mode(s.extract.positions);
    job.options.batch_size = s.extract.batch_size;
    return job;
}

// Trains the [trained_prompts] (each resumes or reuses its run in OUT/train/NAME) and points them
// at their best prompt.
void train_prompts(StudySpec& s, const std::string& model, int threads) {
    for (StudyPrompt& p : s.prompts) {
        if (!p.trained) continue;
        const StudyTraining& t = p.training;
        train::TrainJob job;
        job.model = model;
        job.tokenizer = s.model.tokenizer.string();
        job.data = (t.data.empty() ? s.data.path : t.data).string();
        job.dataset.format = t.data.empty() ? s.data.format : "auto";
        job.dataset.text_column = s.data.text_column;
        job.dataset.label_column = s.data.label_column;
        job.dataset.subdir = t.data.empty() ? s.data.subdir : "";
        if (!s.data.label_folders.empty() && t.data.empty()) {
            job.dataset.label_folders =
                parse_name_pairs(s.data.label_folders, "data.label_folders");
        }
        for (const auto& [label, token] : s.extract.label_tokens) {
            job.label_tokens.emplace_back(label, token);
        }
        job.validation_fraction = t.validation_fraction;
        job.prompt_rows = size_t(t.prompt_length);
        job.init = train::parse_prompt_init(t.init);
        job.init_text = t.init_text;
        job.max_length = s.data.max_length;
        auto& o = job.trainer;
        o.loss.kind = train::parse_loss_kind(t.loss);
        o.loss.margin = t.margin;
        o.loss.temperature = t.temperature;
        o.head.kind = t.output.empty() ? train::default_output(o.loss.kind)
                                       : train::parse_output_kind(t.output);
        o.adam.learning_rate = t.learning_rate;
        o.batch_size = size_t(t.batch_size);
        o.epochs = size_t(t.epochs);
        o.seed = s.seed;
        o.threads = threads;
        job.overwrite = true;  // the study owns OUT/train/NAME: changed options retrain there
        const fs::path dir = s.out / "train" / p.name;
        const train::TrainJobResult r = train::run_train_job(job, dir.string());
        fmt::print("study: prompt {} ({} loss): {}, best epoch {} (score {:.4f})\n", p.name, t.loss,
                   r.already_complete ? "reused" : "trained", r.best_epoch, r.best_score);
        p.file = dir / "prompt-best.npy";
    }
}

std::string panel_note(const Panel& p) {
    return fmt::format("10-NN acc {:.3f} · trust {:.3f}", p.metrics.knn_accuracy,
                       p.metrics.trustworthiness);
}

std::vector<fs::path> write_figures(const StudySpec& s, const std::vector<Panel>& panels,
                                    const Labels& labels, int threads) {
    (void)threads;
    std::vector<fs::path> files;
    const fs::path dir = s.out / "figures";
    fs::create_directories(dir);
    std::vector<plot::ScatterPanel> sp;
    for (const Panel& p : panels) {
        plot::ScatterPanel x;
        x.xy = p.xy.view();
        x.codes = labels.codes;
        x.title = fmt::format("{} · {} · {} · {}", p.method.id, p.prompt, p.output, p.scaling);
        x.subtitle = p.subtitle;
        x.x_label = p.x_label;
        x.y_label = p.y_label;
        x.note = panel_note(p);
        sp.push_back(x);
    }
    std::vector<plot::LegendEntry> legend;
    std::vector<size_t> counts(labels.n_classes(), 0);
    for (int32_t c : labels.codes) ++counts[static_cast<size_t>(c)];
    for (size_t c = 0; c < labels.n_classes(); ++c)
        legend.push_back({labels.classes[c], counts[c]});
    plot::FigureOptions fo;
    fo.title = fmt::format("{} · model {}", s.title, model_name(s.model));
    fo.columns = s.methods.size();
    fo.seed = s.seed;
    for (const char* ext : {"png", "svg", "pdf"}) {
        const fs::path f = dir / fmt::format("grid.{}", ext);
        plot::write_scatter_figure(f, sp, legend, fo);
        files.push_back(f);
    }
    for (const Panel& p : panels) {
        for (const ClusterTable& t : p.tables) {
            plot::Heatmap h;
            h.counts = t.counts;
            for (size_t c = 0; c < t.k; ++c) h.row_names.push_back(std::to_string(c));
            h.col_names = labels.classes;
            h.title =
                fmt::format("KMeans K={} · {} · {} · {}: majority {:.3f}, matched {:.3f}", t.k,
                            p.prompt, p.output, p.scaling, t.majority_accuracy, t.matched_accuracy);
            const fs::path f = dir / fmt::format("kmeans-{}-{}-{}-{}-k{}.png", p.prompt, p.output,
                                                 p.scaling, p.method.id, t.k);
            plot::write_heatmap(f, h);
            files.push_back(f);
        }
    }
    return files;
}

void write_tables(const StudySpec& s, const std::vector<Panel>& panels, const ExtractJobResult& ex,
                  const StudyRunSummary& sum) {
    std::string csv =
        "prompt,output,scaling,method,knn_accuracy,trustworthiness,silhouette,seconds\n";
    json j;
    j["title"] = s.title;
    j["model"] = sum.model;
    j["random_model"] = sum.random_model;
    j["rows"] = sum.rows;
    j["extract_identity"] = ex.result.identity;
    for (const auto& a : ex.result.accuracy) {
        json pa = {{"prompt", a.prompt},
                   {"rows", a.rows},
                   {"correct", a.correct},
                   {"accuracy", a.rows ? double(a.correct) / double(a.rows) : 0.0}};
        for (const auto& c : a.classes) {
            pa["classes"].push_back({{"label", c.label}, {"rows", c.rows}, {"correct", c.correct}});
        }
        j["label_token_accuracy"].push_back(pa);
    }
    for (const Panel& p : panels) {
        csv += fmt::format("{},{},{},{},{:.6f},{:.6f},{:.6f},{:.3f}\n", p.prompt, p.output,
                           p.scaling, p.method.id, p.metrics.knn_accuracy,
                           p.metrics.trustworthiness, p.metrics.silhouette, p.seconds);
        json pj = {{"prompt", p.prompt},
                   {"output", p.output},
                   {"scaling", p.scaling},
                   {"method", p.method.id},
                   {"knn_accuracy", p.metrics.knn_accuracy},
                   {"trustworthiness", p.metrics.trustworthiness},
                   {"silhouette", p.metrics.silhouette},
                   {"reused", p.reused}};
        for (const auto& t : p.tables) {
            pj["kmeans"].push_back({{"k", t.k},
                                    {"counts", t.counts},
                                    {"majority_accuracy", t.majority_accuracy},
                                    {"matched_accuracy", t.matched_accuracy},
                                    {"ari", t.ari},
                                    {"nmi", t.nmi}});
        }
        j["panels"].push_back(pj);
    }
    write_text_file(s.out / "metrics.csv", csv);
    write_text_file(s.out / "summary.json", j.dump(1) + "\n");
}

}  // namespace

StudyRunSummary run_study(const StudySpec& spec, const StudyRunOptions& ro) {
    StudySpec s = spec;  // trained prompts get their files below
    const auto start = std::chrono::steady_clock::now();
    const int threads = ro.threads >= 0 ? ro.threads : s.threads;
    fs::create_directories(s.out);
    const StepCache cache(s.out);
    StudyRunSummary sum;
    sum.random_model = s.model.random;
    sum.model = prepare_model(s, cache);
    train_prompts(s, sum.model, threads);

    const ExtractJobResult ex =
        run_extract_job(extract_job(s, sum.model, threads), (s.out / "features").string());
    sum.extract_reused = ex.result.already_complete;
    sum.rows = ex.dataset.rows.size();
    std::vector<std::string> per_row;
    for (const auto& r : ex.dataset.rows) per_row.push_back(r.label);
    const Labels labels = make_labels(per_row);

    std::vector<Panel> panels;
    std::vector<std::string> outputs;
    if (s.extract.hidden) outputs.push_back("hidden");
    if (s.extract.logits) outputs.push_back("logits");
    for (const std::string& prompt : ex.prompt_names) {
        for (const std::string& output : outputs) {
            const fs::path file = s.out / "features" / prompt / (output + ".npy");
            std::optional<Matrix> raw;
            for (const std::string& scaling : s.scalings) {
                std::optional<Matrix> scaled;
                auto load = [&]() -> const Matrix& {
                    if (!raw) raw = read_npy_matrix(file);
                    if (scaling == "raw") return *raw;
                    if (!scaled)
                        scaled = StandardScaler::fit(raw->view(), threads)
                                     .transform(raw->view(), threads);
                    return *scaled;
                };
                const FeatureSet f{prompt, output, scaling, file,
                                   ex.result.identity + "/" + prompt + "/" + output};
                for (const StudyMethod& m : s.methods) {
                    panels.push_back(make_panel(f, m, labels, s.out, cache, s.seed, threads, load));
                    sum.panels_reused += panels.back().reused;
                }
            }
        }
    }
    sum.panels = panels.size();
    sum.figures = write_figures(s, panels, labels, threads);
    sum.report = s.out / "report.html";
    write_study_report(sum.report, s, ex, labels, panels, sum, threads);
    sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    write_tables(s, panels, ex, sum);
    return sum;
}

}  // namespace promptlens
