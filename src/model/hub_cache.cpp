#include "model/hub_cache.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "core/error.hpp"

namespace promptlens {
namespace fs = std::filesystem;

namespace {

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

}  // namespace

std::string hub_repo_folder(const std::string& name) {
    std::string out = "models--";
    for (char c : name) {
        if (c == '/')
            out += "--";
        else
            out += c;
    }
    return out;
}

HubCacheEnv HubCacheEnv::from_environment() {
    return {env_or_empty("HF_HUB_CACHE"), env_or_empty("HUGGINGFACE_HUB_CACHE"),
            env_or_empty("HF_HOME"),      env_or_empty("XDG_CACHE_HOME"),
            env_or_empty("HOME"),         env_or_empty("HF_ENDPOINT"),
            env_or_empty("HF_TOKEN")};
}

HubCacheDir hub_cache_dir(const HubCacheEnv& env) {
    if (!env.hf_hub_cache.empty()) return {env.hf_hub_cache, "HF_HUB_CACHE=" + env.hf_hub_cache};
    if (!env.huggingface_hub_cache.empty())
        return {env.huggingface_hub_cache, "HUGGINGFACE_HUB_CACHE=" + env.huggingface_hub_cache};
    if (!env.hf_home.empty()) return {fs::path(env.hf_home) / "hub", "HF_HOME=" + env.hf_home};
    if (!env.xdg_cache_home.empty())
        return {fs::path(env.xdg_cache_home) / "huggingface" / "hub",
                "XDG_CACHE_HOME=" + env.xdg_cache_home};
    require(!env.home.empty(),
            "HuggingFace cache: none of HF_HUB_CACHE, HF_HOME, XDG_CACHE_HOME or HOME is set");
    return {fs::path(env.home) / ".cache" / "huggingface" / "hub", "HOME=" + env.home};
}

fs::path resolve_model_dir(const std::string& name_or_path, const HubCacheEnv& env) {
    require(!name_or_path.empty(), "model: empty name");
    std::error_code ec;
    if (fs::is_directory(name_or_path, ec)) return name_or_path;

    const HubCacheDir cache = hub_cache_dir(env);
    const fs::path repo = cache.dir / hub_repo_folder(name_or_path);
    const auto advice = [&] {
        return fmt::format(
            "model '{}' is not a local folder and is not in the HuggingFace cache: looked for "
            "{} (cache from {}). Either pass a folder holding config.json + model.safetensors "
            "(+ vocab.json, merges.txt), or download it into this cache: `promptlens download {}` "
            "(or --download on extract; `huggingface-cli download {}` fills the same cache)",
            name_or_path, (repo / "snapshots").string(), cache.source, name_or_path, name_or_path);
    };
    if (!fs::is_directory(repo / "snapshots", ec)) fail("{}", advice());

    std::ifstream ref(repo / "refs" / "main");
    if (ref) {
        std::string commit;
        std::getline(ref, commit);
        while (!commit.empty() && std::isspace(static_cast<unsigned char>(commit.back())))
            commit.pop_back();
        const fs::path snap = repo / "snapshots" / commit;
        require(!commit.empty() && fs::is_directory(snap, ec),
                "model '{}': {} names commit '{}' but {} is missing; the cache is incomplete, "
                "download the model again",
                name_or_path, (repo / "refs" / "main").string(), commit, snap.string());
        return snap;
    }
    std::vector<fs::path> snaps;
    for (const auto& e : fs::directory_iterator(repo / "snapshots", ec))
        if (e.is_directory()) snaps.push_back(e.path());
    require(snaps.size() == 1,
            "model '{}': {} has no refs/main and {} snapshots, so which one is meant is unclear; "
            "pass the snapshot folder itself",
            name_or_path, repo.string(), snaps.size());
    return snaps.front();
}

}  // namespace promptlens
