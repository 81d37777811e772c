#include "apps/commands.hpp"
#include "core/error.hpp"

namespace promptlens::cli {

void setup_cluster(CLI::App& app) {
    auto* sub = app.add_subcommand("cluster", "(being written)");
    sub->callback([] { fail("cluster: not implemented yet"); });
}

}  // namespace promptlens::cli
