// Study files: a complete one parses with every default filled in; each kind of mistake is one
// error naming the file, the line and the key, before any work.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.hpp"
#include "study/step_cache.hpp"
#include "study/study_spec.hpp"
#include "test_helpers.hpp"

namespace promptlens {
namespace {

class StudySpecTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::ofstream(dir.path() / "data.jsonl") << "{\"text\":\"a\",\"label\":\"good\"}\n";
        std::ofstream(dir.path() / "p.npy") << "x";
    }
    StudySpec parse(const std::string& text) { return parse_study(text, dir.path() / "s.toml"); }
    std::string error(const std::string& text) {
        return test::error_of([&] { parse(text); });
    }
    test::TempDir dir;
};

const char* const kMinimal = R"(
[model]
path = "gpt2"
[data]
path = "data.jsonl"
[text_prompts]
summary = " All in all, it was"
[methods.pca]
)";

TEST_F(StudySpecTest, MinimalStudyGetsTheDocumentedDefaults) {
    const StudySpec s = parse(kMinimal);
    EXPECT_EQ(s.title, "s");
    EXPECT_EQ(s.out, dir.path() / "out" / "s");
    EXPECT_EQ(s.model.path, "gpt2");
    EXPECT_FALSE(s.model.random);
    EXPECT_EQ(s.data.path, dir.path() / "data.jsonl");
    EXPECT_EQ(s.data.max_length, 1000u);
    ASSERT_EQ(s.prompts.size(), 1u);
    EXPECT_EQ(s.prompts[0].text, " All in all, it was");
    EXPECT_TRUE(s.extract.hidden);
    EXPECT_FALSE(s.extract.logits);
    EXPECT_EQ(s.extract.positions, "exact");
    EXPECT_EQ(s.scalings, (std::vector<std::string>{"raw", "scaled"}));
    ASSERT_EQ(s.methods.size(), 1u);
    EXPECT_EQ(s.methods[0].method, "pca");
    EXPECT_EQ(s.methods[0].numbers.at("components"), 2);
}

TEST_F(StudySpecTest, FullStudyKeepsOrderAndParameters) {
    const StudySpec s = parse(R"(
title = "seed"
out = "results"
seed = 3
threads = 2
[model.random]
layers = 1
heads = 2
embd = 16
tokenizer = "."
[data]
path = "data.jsonl"
sample = 50
max_length = 64
[prompts]
token = "p.npy"
[text_prompts]
hard = "It was"
[extract]
outputs = ["hidden", "logits"]
logits_tokens = ["good", "bad"]
label_tokens = { good = "good", bad = "bad" }
positions = "hf-padded"
batch_size = 8
[analysis]
scalings = ["scaled"]
[methods.tsne-p5]
method = "tsne"
perplexity = 5
learning_rate = "auto"
[methods.umap]
supervised = true
[methods.kmeans]
clusters = [2, 8]
)");
    EXPECT_EQ(s.title, "seed");
    EXPECT_EQ(s.out, dir.path() / "results");
    EXPECT_EQ(s.seed, 3u);
    EXPECT_TRUE(s.model.random);
    EXPECT_EQ(s.model.random_spec.embd, 16);
    EXPECT_EQ(s.data.sample, 50u);
    ASSERT_EQ(s.prompts.size(), 2u);
    EXPECT_EQ(s.prompts[0].name, "token");
    EXPECT_EQ(s.prompts[0].file, dir.path() / "p.npy");
    EXPECT_EQ(s.prompts[1].name, "hard");
    EXPECT_TRUE(s.extract.logits);
    EXPECT_EQ(s.extract.logits_tokens, (std::vector<std::string>{"good", "bad"}));
    EXPECT_EQ(s.extract.label_tokens.at("good"), "good");
    EXPECT_EQ(s.extract.positions, "hf-padded");
    ASSERT_EQ(s.methods.size(), 3u);
    EXPECT_EQ(s.methods[0].id, "tsne-p5");
    EXPECT_EQ(s.methods[0].method, "tsne");
    EXPECT_EQ(s.methods[0].numbers.at("perplexity"), 5);
    EXPECT_EQ(s.methods[0].strings.at("learning_rate"), "auto");
    EXPECT_EQ(s.methods[1].numbers.at("supervised"), 1);
    EXPECT_EQ(s.methods[2].clusters, (std::vector<int64_t>{2, 8}));
}

TEST_F(StudySpecTest, MistakesNameFileLineAndKey) {
    const std::string base = kMinimal;
    EXPECT_NE(
        error(base + "perplexity = 30\n").find("s.toml:9: methods.pca.perplexity: unknown key"),
        std::string::npos)
        << error(base + "perplexity = 30\n");
    EXPECT_NE(error(base + "[methods.tsne]\nperplexity = \"thirty\"\n")
                  .find("s.toml:10: methods.tsne.perplexity: expected a number, got a string"),
              std::string::npos);
    EXPECT_NE(error(base + "[methods.tsne]\nperplexity = -1\n")
                  .find("methods.tsne.perplexity: must be in [1, 1000], got -1"),
              std::string::npos);
    EXPECT_NE(
        error(base + "[methods.x]\nmethod = \"isomap\"\n")
            .find("s.toml:10: methods.x.method: 'isomap' is not one of pca, tsne, umap, kmeans"),
        std::string::npos);
    EXPECT_NE(error(base + "[prompts]\nbad = \"missing.pt\"\n").find("prompts.bad: "),
              std::string::npos);
    EXPECT_NE(error(base + "[prompts]\nbad = \"missing.pt\"\n").find("missing.pt does not exist"),
              std::string::npos);
    EXPECT_NE(error(base + "[analysis]\nscalings = [\"log\"]\n").find("unknown scaling 'log'"),
              std::string::npos);
    EXPECT_NE(error(base + "colour = 1\n").find("methods.pca.colour: unknown key"),
              std::string::npos);
    EXPECT_NE(error("titel = \"x\"\n" + base).find("s.toml:1: titel: unknown key"),
              std::string::npos);
    EXPECT_NE(error("[model]\npath = \"gpt2\"\n").find("[data] table is missing"),
              std::string::npos);
    EXPECT_NE(error(base + "[extract]\noutputs = [\"logits\"]\n")
                  .find("logits need exactly one of logits_full"),
              std::string::npos);
    EXPECT_NE(error("[model\n").find("s.toml:1: "), std::string::npos);  // TOML syntax
    EXPECT_NE(error(base + "[methods.kmeans]\nclusters = [2, 0]\n")
                  .find("cluster counts must be at least 1, got 0"),
              std::string::npos);
}

// examples/seed-study.toml is checked as `promptlens run --check` checks it: parsed and validated,
// with stand-ins for the files it names (the IMDB archive and three prompts, not in the repository;
// the check reads no file contents). It must say what docs/study.md says it is.
TEST(StudySpecExample, SeedStudyParsesAsTheSeedNotebook) {
    test::TempDir dir;
    const auto study = dir.path() / "examples" / "seed-study.toml";
    std::filesystem::create_directories(study.parent_path());
    std::filesystem::copy_file(test::data_path("../../examples/seed-study.toml"), study);
    EXPECT_NE(test::error_of([&] { read_study(study); }).find("aclImdb_v1.tar.gz does not exist"),
              std::string::npos);
    std::filesystem::create_directories(dir.path() / "data" / "prompts");
    test::write_bytes(dir.path() / "data" / "aclImdb_v1.tar.gz", "stand-in");
    for (const char* p : {"trained-prompt-1-20-768.pt", "trained-prompt-1-20-768-cosine.pt",
                          "trained-prompt-1-20-768-distance.pt"}) {
        test::write_bytes(dir.path() / "data" / "prompts" / p, "stand-in");
    }
    const StudySpec s = read_study(study);
    EXPECT_EQ(s.out, dir.path() / "out" / "seed-study");
    EXPECT_EQ(s.model.path, "gpt2");
    EXPECT_EQ(model_name(s.model), "gpt2");
    EXPECT_EQ(s.data.path, dir.path() / "data" / "aclImdb_v1.tar.gz");
    EXPECT_EQ(s.data.subdir, "aclImdb/test");
    EXPECT_EQ(s.data.label_folders, "pos=good,neg=bad");
    EXPECT_EQ(s.data.max_length, 1000u);
    ASSERT_EQ(s.prompts.size(), 3u);
    EXPECT_EQ(s.prompts[0].name, "token");
    EXPECT_EQ(s.prompts[1].name, "cosine");
    EXPECT_EQ(s.prompts[2].name, "distance");
    EXPECT_EQ(s.prompts[2].file,
              dir.path() / "data" / "prompts" / "trained-prompt-1-20-768-distance.pt");
    EXPECT_TRUE(s.extract.hidden);
    EXPECT_TRUE(s.extract.logits);
    EXPECT_TRUE(s.extract.logits_full);
    EXPECT_EQ(s.extract.label_tokens.size(), 2u);
    EXPECT_EQ(s.scalings, (std::vector<std::string>{"raw", "scaled"}));
    ASSERT_EQ(s.methods.size(), 4u);
    EXPECT_EQ(s.methods[0].method, "pca");
    EXPECT_EQ(s.methods[1].method, "tsne");
    EXPECT_EQ(s.methods[2].method, "umap");
    EXPECT_EQ(s.methods[3].method, "kmeans");
    EXPECT_EQ(s.methods[3].clusters, (std::vector<int64_t>{2, 8}));
}

TEST(StudySpecModelName, HubNameFolderNameOrRandom) {
    StudyModel m;
    m.path = "gpt2";
    EXPECT_EQ(model_name(m), "gpt2");
    m.path = "/models/hf/gpt2-medium";
    EXPECT_EQ(model_name(m), "gpt2-medium");
    m.path = "/models/hf/distilgpt2/";
    EXPECT_EQ(model_name(m), "distilgpt2");
    m = {};
    m.random = true;
    m.random_spec.layers = 1;
    m.random_spec.embd = 16;
    EXPECT_EQ(model_name(m), "random-weight GPT-2 (1 layers, width 16)");
}

TEST(StepCache, FreshOnlyWithTheSameKeyAndEveryOutput) {
    test::TempDir dir;
    const StepCache cache(dir.path());
    const auto out = dir.path() / "a.npy";
    EXPECT_FALSE(cache.fresh("panel/x/y", "k1", {out}));
    std::ofstream(out) << "x";
    cache.record("panel/x/y", "k1");
    EXPECT_TRUE(cache.fresh("panel/x/y", "k1", {out}));
    EXPECT_FALSE(cache.fresh("panel/x/y", "k2", {out}));
    EXPECT_FALSE(cache.fresh("panel/x/z", "k1", {out}));
    std::filesystem::remove(out);
    EXPECT_FALSE(cache.fresh("panel/x/y", "k1", {out}));
}

}  // namespace
}  // namespace promptlens
