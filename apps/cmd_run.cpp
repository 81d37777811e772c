// `promptlens run STUDY.toml`: the whole study — extract, reduce, cluster, figures, report — with
// every unchanged step reused (see src/study/study_runner.hpp and docs/study.md).
#include <fmt/format.h>

#include "apps/commands.hpp"
#include "apps/common.hpp"
#include "study/study_runner.hpp"
#include "study/study_spec.hpp"

namespace promptlens::cli {
namespace {

struct RunOptions {
    std::string study;
    bool check = false;
    int threads = -1;
};

void print_summary(const StudySpec& s, const StudyRunSummary& r) {
    fmt::print("study '{}': {} rows, model {}{}\n", s.title, r.rows, r.model,
               r.random_model ? " (RANDOM weights: the numbers describe no language model)" : "");
    fmt::print("extract: {}\n", r.extract_reused ? "reused (inputs unchanged)" : "done");
    fmt::print("panels: {} ({} reused, {} computed)\n", r.panels, r.panels_reused,
               r.panels - r.panels_reused);
    fmt::print("figures: {} files under {}\n", r.figures.size(), (s.out / "figures").string());
    fmt::print("report: {}\n", r.report.string());
    fmt::print("tables: {} and {}\n", (s.out / "metrics.csv").string(),
               (s.out / "summary.json").string());
    fmt::print("finished in {:.1f} s\n", r.seconds);
}

}  // namespace

void setup_run(CLI::App& app) {
    auto o = std::make_shared<RunOptions>();
    auto* sub = app.add_subcommand(
        "run",
        "Run a study file (TOML): model, dataset, prompts, outputs, scalings and methods -> "
        "features, embeddings, KMeans tables, figures and an interactive report; a rerun reuses "
        "every step whose inputs and options are unchanged");
    sub->add_option("study", o->study, "The study file (see docs/study.md)")->required();
    sub->add_flag("--check", o->check, "Only read and check the study file, then stop");
    sub->add_option("--threads", o->threads,
                    "Worker threads (0 = all cores; default: the study's own setting); results "
                    "are identical for any count")
        ->check(kNonNegative);
    sub->callback([o] {
        const StudySpec spec = read_study(o->study);
        if (o->check) {
            fmt::print("{}: OK ({} prompts, {} methods, {} scalings) -> {}\n", o->study,
                       spec.prompts.size(), spec.methods.size(), spec.scalings.size(),
                       spec.out.string());
            return;
        }
        StudyRunOptions ro;
        ro.threads = o->threads;
        print_summary(spec, run_study(spec, ro));
    });
}

}  // namespace promptlens::cli
