// promptlens download REPO: a model from the HuggingFace hub into the HuggingFace cache
// (hub/hub_download.hpp), where --model REPO then finds it.
#include <fmt/format.h>

#include <memory>

#include "apps/commands.hpp"
#include "core/progress.hpp"
#include "hub/hub_download.hpp"

namespace promptlens::cli {

void setup_download(CLI::App& app) {
    struct Flags {
        std::string repo, revision = "main", endpoint;
        int retries = 3;
    };
    auto f = std::make_shared<Flags>();
    auto* sub = app.add_subcommand(
        "download",
        "Download a GPT-2 from the HuggingFace hub into the HuggingFace cache (config, weights, "
        "tokenizer files), resumable and checksum-verified; honours HF_ENDPOINT, HF_HOME, "
        "HF_HUB_CACHE and HF_TOKEN. Prints the snapshot folder");
    sub->add_option("repo", f->repo,
                    "Hub repository: gpt2, distilgpt2, openai-community/gpt2-xl, ...")
        ->required();
    sub->add_option("--revision", f->revision, "Branch, tag or commit")->capture_default_str();
    sub->add_option("--endpoint", f->endpoint,
                    "Hub URL (default: $HF_ENDPOINT, else https://huggingface.co)");
    sub->add_option("--retries", f->retries, "Retries per file after a broken connection")
        ->capture_default_str()
        ->check(CLI::Range(0, 100));
    sub->callback([f] {
        HubDownloadOptions o;
        o.revision = f->revision;
        o.endpoint = f->endpoint;
        o.retries = f->retries;
        o.quiet = progress_quiet();
        const HubDownloadResult r = download_model(f->repo, o);
        if (!o.quiet)
            fmt::print(stderr,
                       "download: {} at {}: {} fetched ({} bytes), {} already in the cache\n",
                       f->repo, r.commit.substr(0, 12), r.fetched.size(), r.bytes_fetched,
                       r.cached.size());
        fmt::print("{}\n", r.snapshot.string());
    });
}

}  // namespace promptlens::cli
