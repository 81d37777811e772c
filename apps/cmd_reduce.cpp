#include "apps/commands.hpp"
#include "core/error.hpp"

namespace promptlens::cli {

void setup_reduce(CLI::App& app) {
    auto* sub = app.add_subcommand("reduce", "(being written)");
    sub->callback([] { fail("reduce: not implemented yet"); });
}

}  // namespace promptlens::cli
