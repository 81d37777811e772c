#include "apps/commands.hpp"
#include "core/error.hpp"

namespace promptlens::cli {

void setup_metrics(CLI::App& app) {
    auto* sub = app.add_subcommand("metrics", "(being written)");
    sub->callback([] { fail("metrics: not implemented yet"); });
}

}  // namespace promptlens::cli
