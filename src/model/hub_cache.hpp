// Model names resolved the way HuggingFace transformers finds them offline: a local folder wins;
// otherwise a hub name ("gpt2", "openai-community/gpt2") is looked up in the hub cache,
// <cache>/models--<org>--<name>/refs/main → snapshots/<commit>/. The cache folder is the first of
// $HF_HUB_CACHE, $HUGGINGFACE_HUB_CACHE (older name), $HF_HOME/hub,
// $XDG_CACHE_HOME/huggingface/hub,
// ~/.cache/huggingface/hub. Nothing is downloaded here (hub/hub_download.hpp does that): when the
// model is absent, one Error says where it looked and what to do.
#pragma once

#include <filesystem>
#include <string>

namespace promptlens {

// The HuggingFace environment variables the lookup and downloads read (empty = unset), so tests can
// pass their own.
struct HubCacheEnv {
    std::string hf_hub_cache = {};           // $HF_HUB_CACHE
    std::string huggingface_hub_cache = {};  // $HUGGINGFACE_HUB_CACHE
    std::string hf_home = {};                // $HF_HOME
    std::string xdg_cache_home = {};         // $XDG_CACHE_HOME
    std::string home = {};                   // $HOME
    std::string hf_endpoint = {};            // $HF_ENDPOINT (downloads only)
    std::string hf_token = {};               // $HF_TOKEN (downloads only)

    static HubCacheEnv from_environment();
};

// The hub cache folder and the variable it came from (e.g. "HF_HOME=/data/hf").
struct HubCacheDir {
    std::filesystem::path dir;
    std::string source;
};
HubCacheDir hub_cache_dir(const HubCacheEnv& env);

// "openai-community/gpt2" → "models--openai-community--gpt2" (huggingface_hub's repo_folder_name).
std::string hub_repo_folder(const std::string& repo);

// `name_or_path` if it is an existing folder; else the cached snapshot of hub repo `name_or_path`
// at refs/main (with no refs/main, a cache holding exactly one snapshot uses it). Throws Error
// naming the folder it looked in and how to fill it.
std::filesystem::path resolve_model_dir(const std::string& name_or_path,
                                        const HubCacheEnv& env = HubCacheEnv::from_environment());

}  // namespace promptlens
