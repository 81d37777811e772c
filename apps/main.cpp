// promptlens: shows how a language model, steered by a prompt, separates labelled texts.
// Errors thrown anywhere below are reported here once, as one line, with a non-zero exit.
#include <cstdio>
#include <exception>

#include "apps/commands.hpp"
#include "core/error.hpp"
#include "core/memory.hpp"
#include "core/progress.hpp"

int main(int argc, char** argv) try {
    promptlens::retain_freed_memory();
    CLI::App app{
        "promptlens: how a language model, steered by a prompt, separates labelled texts: GPT-2 "
        "features (extract), PCA / t-SNE / UMAP / KMeans (reduce, cluster), separation metrics, "
        "figures, an interactive report, and whole studies (run)"};
    app.set_version_flag("--version", std::string("promptlens ") + PROMPTLENS_VERSION);
    app.require_subcommand(1);
    app.fallthrough();  // global flags such as --quiet may also follow the subcommand
    bool quiet = false;
    app.add_flag("-q,--quiet", quiet, "No progress output on stderr")->configurable(false);
    app.parse_complete_callback([&] { promptlens::set_progress_quiet(quiet); });
    promptlens::cli::setup_reduce(app);
    promptlens::cli::setup_cluster(app);
    promptlens::cli::setup_metrics(app);
    promptlens::cli::setup_demo(app);
    promptlens::cli::setup_tokenize(app);
    promptlens::cli::setup_extract(app);
    promptlens::cli::setup_plot(app);
    promptlens::cli::setup_run(app);
    promptlens::cli::setup_report(app);
    promptlens::cli::setup_download(app);
    promptlens::cli::setup_train_prompt(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version print as CLI11 does; a usage error is one line like any other.
        if (e.get_exit_code() == 0) return app.exit(e);
        std::fprintf(stderr, "promptlens: error: %s (see --help)\n", e.what());
        return e.get_exit_code();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "promptlens: error: %s\n", e.what());
        return 1;
    }
    return 0;
} catch (const std::exception& e) {  // setting up the command line itself failed
    std::fprintf(stderr, "promptlens: error: %s\n", e.what());
    return 1;
}
