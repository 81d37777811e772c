// Model-name resolution through a fake HuggingFace cache tree (model/hub_cache.hpp).
#include "model/hub_cache.hpp"

#include <fstream>

#include "test_helpers.hpp"

namespace promptlens {
namespace {
namespace fs = std::filesystem;

// <hub>/models--<repo>/refs/main → snapshots/<commit>/config.json
fs::path make_cached(const fs::path& hub, const std::string& repo_folder, const std::string& commit,
                     bool write_ref = true) {
    const fs::path snap = hub / repo_folder / "snapshots" / commit;
    fs::create_directories(snap);
    std::ofstream(snap / "config.json") << "{}";
    if (write_ref) {
        fs::create_directories(hub / repo_folder / "refs");
        std::ofstream(hub / repo_folder / "refs" / "main") << commit;  // no newline, as the hub
    }
    return snap;
}

TEST(HubCache, CacheFolderPrecedence) {
    HubCacheEnv env{.home = "/home/u"};
    EXPECT_EQ(hub_cache_dir(env).dir, "/home/u/.cache/huggingface/hub");
    env.xdg_cache_home = "/xdg";
    EXPECT_EQ(hub_cache_dir(env).dir, "/xdg/huggingface/hub");
    env.hf_home = "/hf";
    EXPECT_EQ(hub_cache_dir(env).dir, "/hf/hub");
    env.huggingface_hub_cache = "/old";
    EXPECT_EQ(hub_cache_dir(env).dir, "/old");
    env.hf_hub_cache = "/new";
    EXPECT_EQ(hub_cache_dir(env).dir, "/new");
    EXPECT_EQ(hub_cache_dir(env).source, "HF_HUB_CACHE=/new");
}

TEST(HubCache, ResolvesRefsMainToSnapshot) {
    test::TempDir tmp;
    const auto snap = make_cached(tmp / "hf" / "hub", "models--gpt2", "abc123");
    make_cached(tmp / "hf" / "hub", "models--gpt2", "old999", false);  // an older snapshot
    const HubCacheEnv env{.hf_home = (tmp / "hf").string()};
    EXPECT_EQ(resolve_model_dir("gpt2", env), snap);
    // Organisation names: '/' becomes '--'.
    const auto org = make_cached(tmp / "hf" / "hub", "models--openai-community--gpt2", "c0ffee");
    EXPECT_EQ(resolve_model_dir("openai-community/gpt2", env), org);
    // Through ~/.cache when nothing else is set.
    const auto home =
        make_cached(tmp / "home" / ".cache" / "huggingface" / "hub", "models--distilgpt2", "d1");
    EXPECT_EQ(resolve_model_dir("distilgpt2", HubCacheEnv{.home = (tmp / "home").string()}), home);
}

TEST(HubCache, LocalFolderWins) {
    test::TempDir tmp;
    fs::create_directories(tmp / "gpt2");
    make_cached(tmp / "hub", "models--gpt2", "abc");
    const HubCacheEnv env{.hf_hub_cache = (tmp / "hub").string()};
    EXPECT_EQ(resolve_model_dir((tmp / "gpt2").string(), env), tmp / "gpt2");
}

TEST(HubCache, SingleSnapshotWithoutRef) {
    test::TempDir tmp;
    const auto snap = make_cached(tmp / "hub", "models--gpt2", "only", false);
    EXPECT_EQ(resolve_model_dir("gpt2", HubCacheEnv{.hf_hub_cache = (tmp / "hub").string()}), snap);
    make_cached(tmp / "hub", "models--gpt2", "second", false);
    EXPECT_THROW(resolve_model_dir("gpt2", HubCacheEnv{.hf_hub_cache = (tmp / "hub").string()}),
                 Error);
}

TEST(HubCache, MissingModelSaysWhereItLooked) {
    test::TempDir tmp;
    const HubCacheEnv env{.hf_home = (tmp / "hf").string()};
    try {
        resolve_model_dir("gpt2", env);
        FAIL() << "expected an Error";
    } catch (const Error& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find((tmp / "hf" / "hub" / "models--gpt2" / "snapshots").string()),
                  std::string::npos)
            << m;
        EXPECT_NE(m.find("HF_HOME="), std::string::npos) << m;
        EXPECT_NE(m.find("promptlens download gpt2"), std::string::npos) << m;
    }
    // refs/main naming a snapshot that is not there.
    fs::create_directories(tmp / "hf" / "hub" / "models--gpt2" / "snapshots");
    fs::create_directories(tmp / "hf" / "hub" / "models--gpt2" / "refs");
    std::ofstream(tmp / "hf" / "hub" / "models--gpt2" / "refs" / "main") << "deadbeef\n";
    EXPECT_THROW(resolve_model_dir("gpt2", env), Error);
}

}  // namespace
}  // namespace promptlens
