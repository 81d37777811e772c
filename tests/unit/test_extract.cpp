// The extraction pipeline from files to .npy: HuggingFace's e2e golden case (three reviews, the
// tiny model, prompt.npy) in both position modes; identical bytes for any thread count; text
// prompts equal to the soft prompt of their wte rows; refusing other runs' outputs; errors before
// any work. (Killing and resuming a run is tested end to end in tests/cli/extract.sh.)
#include <gtest/gtest.h>

#include "core/npy.hpp"
#include "extract/extractor.hpp"
#include "extract/load_dataset.hpp"
#include "gpt2_golden.hpp"
#include "model/gpt2_cpu.hpp"
#include "model/soft_prompt.hpp"
#include "model/text_prompt.hpp"
#include "test_helpers.hpp"

namespace promptlens {
namespace {

// Whether `text` holds `part`; on failure both are printed.
::testing::AssertionResult contains(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "'" << text << "' lacks '" << part << "'";
}

using test::gpt2::Array;
using test::gpt2::load;

const text::Gpt2Tokenizer& tokenizer() {
    static const auto tok = text::Gpt2Tokenizer::load(test::data_path("gpt2"));
    return tok;
}

// Everything `promptlens extract` does after parsing its flags.
struct ExtractRun {
    TextDataset ds;
    TokenizedRows rows;
    std::unique_ptr<Gpt2CpuBackend> backend;
    ExtractInputs in;

    ExtractRun(const std::string& data, size_t max_length, int threads,
               std::vector<ExtractPrompt> prompts = {}) {
        const auto& w = test::gpt2::tiny();
        ds = load_text_dataset(test::data_path("datasets/" + data), {});
        rows = tokenize_rows(tokenizer(), ds, max_length, threads);
        backend = std::make_unique<Gpt2CpuBackend>(w, Gpt2CpuOptions{threads});
        in.backend = backend.get();
        in.config = w.config;
        in.dataset = &ds;
        in.rows = &rows;
        in.max_length = max_length;
        in.model_hash = gpt2_weights_hash(w);
        if (prompts.empty()) {
            prompts.push_back(
                {"p", "prompt.npy", load_soft_prompt(test::data_path("gpt2-tiny/prompt.npy"), 32)});
        }
        in.prompts = std::move(prompts);
    }
};

ExtractOptions golden_options(PositionMode mode) {
    ExtractOptions o;
    o.positions = mode;
    o.logits = LogitsRequest::full;
    o.label_tokens = {{"good", {"good", 11274}}, {"bad", {"bad", 14774}}};
    return o;
}

std::vector<double> columns(const Matrix& m, const Array& ids) {
    std::vector<double> v;
    for (size_t i = 0; i < m.rows(); ++i) {
        for (double id : ids.v) v.push_back(m.row(i)[size_t(id)]);
    }
    return v;
}

// The seed's numbers: the prompt of every row starts at the padded length (40) of its batch.
TEST(ExtractGolden, HfPaddedPositionsReproduceTheSeedsBatch) {
    test::TempDir out;
    ExtractRun run("e2e.jsonl", 40, 1);
    const auto r = run_extract(run.in, golden_options(PositionMode::hf_padded), out.path());
    EXPECT_EQ(r.rows, 3u);
    const Matrix hidden = read_npy_matrix(out / "p/hidden.npy");
    const Matrix logits = read_npy_matrix(out / "p/logits.npy");
    ASSERT_EQ(logits.cols(), 50257u);
    // fp32 vs HF fp32: 1e-4 on O(1) hidden states, 5e-4 on logits of magnitude ~10 (README).
    EXPECT_TRUE(test::all_close(test::flat(hidden), load("e2e/prompt_last_hidden.npy").v, 1e-4, 0));
    EXPECT_TRUE(test::all_close(columns(logits, load("e2e/logit_ids.npy")),
                                load("e2e/prompt_last_logits_subset.npy").v, 5e-4, 0));
    EXPECT_TRUE(
        test::all_close(test::flat(hidden), load("e2e/prompt_last_hidden_f64.npy").v, 1e-4, 0));
    // label_logits.npy holds the good/bad columns of the full logits, bit for bit.
    const Matrix ll = read_npy_matrix(out / "p/label_logits.npy");
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(ll.row(i)[0], logits.row(i)[11274]);
        EXPECT_EQ(ll.row(i)[1], logits.row(i)[14774]);
    }
    EXPECT_EQ(test::read_bytes(out / "labels.txt"), "good\nbad\nbad\n");
    EXPECT_TRUE(contains(
        test::read_bytes(out / "rows.jsonl"),
        R"({"row":2,"label":"bad","source":"e2e.jsonl:3","tokens":40,"truncated":true,"prompt_start":40})"));
    EXPECT_FALSE(std::filesystem::exists(out / ".extract-journal"));
}

// Exact positions: each row as if alone (HF's `prompt_last_hidden_single`).
TEST(ExtractGolden, ExactPositionsMatchEachTextAlone) {
    test::TempDir out;
    ExtractRun run("e2e.jsonl", 40, 2);
    auto o = golden_options(PositionMode::exact);
    o.logits = LogitsRequest::selected;
    o.logit_tokens = {{"good", 11274}, {"bad", 14774}, {"Ġgood", 922}};
    run_extract(run.in, o, out.path());
    const Matrix hidden = read_npy_matrix(out / "p/hidden.npy");
    EXPECT_TRUE(
        test::all_close(test::flat(hidden), load("e2e/prompt_last_hidden_single.npy").v, 1e-4, 0));
    // Selected logits are hidden · wte[id] (tied head): check against the golden hidden states.
    const Matrix logits = read_npy_matrix(out / "p/logits.npy");
    ASSERT_EQ(logits.cols(), 3u);
    const Array single = load("e2e/prompt_last_hidden_single.npy");
    const auto& w = test::gpt2::tiny();
    for (size_t i = 0; i < 3; ++i) {
        for (size_t k = 0; k < 3; ++k) {
            const size_t id = std::vector<size_t>{11274, 14774, 922}[k];
            double dot = 0;
            for (size_t c = 0; c < 32; ++c) dot += single.v[i * 32 + c] * w.wte[id * 32 + c];
            EXPECT_NEAR(logits.row(i)[k], dot, 5e-4);
        }
    }
}

TEST(Extract, SameBytesForAnyThreadCountAndChunking) {
    std::string first;
    for (int threads : {1, 3}) {
        test::TempDir out;
        ExtractRun run("e2e.jsonl", 40, threads);
        auto o = golden_options(PositionMode::exact);
        o.chunk_rows = 1;  // one row per chunk: rows written out of order
        run_extract(run.in, o, out.path());
        const std::string bytes = test::read_bytes(out / "p/hidden.npy") +
                                  test::read_bytes(out / "p/logits.npy") +
                                  test::read_bytes(out / "metrics.json");
        if (first.empty()) first = bytes;
        EXPECT_EQ(bytes, first) << threads << " threads";
    }
}

TEST(Extract, TextPromptIsItsTokensEmbeddings) {
    const auto& w = test::gpt2::tiny();
    const auto ids = tokenizer().encode(" Sentiment:");
    Matrix soft = text_prompt_embeddings(w, ids, "t");
    ASSERT_EQ(soft.rows(), ids.size());
    EXPECT_EQ(soft.row(0)[5], w.wte[size_t(ids[0]) * 32 + 5]);
    test::TempDir out;
    std::vector<ExtractPrompt> prompts;
    prompts.push_back({"as_text", "text:  Sentiment:", text_prompt_embeddings(w, ids, "t")});
    prompts.push_back({"as_soft", "rows of wte", soft});
    ExtractRun run("e2e.jsonl", 40, 1, std::move(prompts));
    run_extract(run.in, golden_options(PositionMode::exact), out.path());
    EXPECT_EQ(test::read_bytes(out / "as_text/hidden.npy"),
              test::read_bytes(out / "as_soft/hidden.npy"));
    EXPECT_TRUE(contains(test::error_of([&] { text_prompt_embeddings(w, {}, "empty"); }),
                         "text prompt 'empty': it has no tokens"));
}

TEST(Extract, RefusesOtherRunsOutputsUnlessOverwrite) {
    test::TempDir out;
    ExtractRun run("e2e.jsonl", 40, 1);
    auto o = golden_options(PositionMode::exact);
    run_extract(run.in, o, out.path());
    const auto again = run_extract(run.in, o, out.path());
    EXPECT_TRUE(again.already_complete);
    ASSERT_EQ(again.accuracy.size(), 1u);
    EXPECT_EQ(again.accuracy[0].rows, 3u);
    o.positions = PositionMode::hf_padded;
    EXPECT_TRUE(contains(test::error_of([&] { run_extract(run.in, o, out.path()); }),
                         "already holds the outputs of another extraction"));
    o.overwrite = true;
    EXPECT_FALSE(run_extract(run.in, o, out.path()).already_complete);
}

TEST(Extract, ChecksBeforeAnyWork) {
    test::TempDir out;
    ExtractRun run("e2e.jsonl", 0, 1);  // no truncation: 41 text tokens + 4 prompt tokens fit in 64
    auto o = golden_options(PositionMode::exact);
    run.in.prompts[0].embeddings = Matrix(30, 32);  // 42 + 30 > 64
    EXPECT_TRUE(contains(test::error_of([&] { run_extract(run.in, o, out.path()); }),
                         "e2e.jsonl:3: its prompt 'p' would end at position 71 (41 text positions "
                         "+ 30 prompt tokens) but the model has 64; lower --max-length to at most "
                         "34"));
    run.in.prompts[0].embeddings = Matrix(4, 32);
    o.label_tokens = {{"good", {"good", 11274}}, {"meh", {"meh", 1}}};
    EXPECT_TRUE(contains(test::error_of([&] { run_extract(run.in, o, out.path()); }),
                         "e2e.jsonl:2: label 'bad' has no token in --label-tokens"));
    run.in.prompts[0].name = "../x";
    EXPECT_TRUE(contains(test::error_of([&] { run_extract(run.in, o, out.path()); }),
                         "prompt name '../x'"));
    EXPECT_TRUE(std::filesystem::is_empty(out.path()));
}

}  // namespace
}  // namespace promptlens
