#include "apps/commands.hpp"
#include "core/error.hpp"

namespace promptlens::cli {

void setup_demo(CLI::App& app) {
    auto* sub = app.add_subcommand("demo", "(being written)");
    sub->callback([] { fail("demo: not implemented yet"); });
}

}  // namespace promptlens::cli
