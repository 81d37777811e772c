// One file per subcommand (CLI11's subcommands-in-files layout): each `setup_*` adds its
// subcommand to the app, binds the flags to an options struct and sets the callback that runs it.
#pragma once

#include <CLI/CLI.hpp>

namespace promptlens::cli {

void setup_reduce(CLI::App& app);
void setup_cluster(CLI::App& app);
void setup_metrics(CLI::App& app);
void setup_demo(CLI::App& app);
void setup_tokenize(CLI::App& app);
void setup_extract(CLI::App& app);
void setup_plot(CLI::App& app);
void setup_run(CLI::App& app);
void setup_report(CLI::App& app);
void setup_download(CLI::App& app);
void setup_train_prompt(CLI::App& app);

}  // namespace promptlens::cli
