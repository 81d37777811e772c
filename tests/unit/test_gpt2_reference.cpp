// The reference GPT-2 forward pass against HuggingFace transformers 4.31 (golden files copied from
// ../shared/golden/gpt2-tiny into tests/data/gpt2-tiny; see its README).
//
// Tolerances (from the golden README): HF's own float32 run is noisy at ~1e-6 relative, our
// reference accumulates in double, so against the float32 files we allow 1e-4 absolute on hidden
// states (values are O(1)) and 5e-4 on logits (a sum over C products of O(1) values); against the
// float64 files, which are the exact answer, rtol 1e-5 plus atol 1e-6 for values near zero (float32
// storage of weights and activations alone makes ~1e-7 absolute error).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

#include "core/error.hpp"
#include "core/npy.hpp"
#include "gpt2_golden.hpp"
#include "model/gpt2_reference.hpp"
#include "test_helpers.hpp"

namespace promptlens {
namespace {

constexpr double kHiddenAtol = 1e-4;
constexpr double kLogitAtol = 5e-4;
constexpr double kF64Rtol = 1e-5, kF64Atol = 1e-6;

using namespace test::gpt2;
void report(const std::string& what, double err) {
    std::cout << "[ golden ] " << what << " max|diff| = " << err << "\n";
}

class Gpt2GoldenSingle : public ::testing::TestWithParam<int> {};

TEST_P(Gpt2GoldenSingle, TextPassPromptPassAndLogitsMatchHuggingFace) {
    const std::string dir = "single_" + std::to_string(GetParam()) + "/";
    const auto& w = tiny();
    const size_t C = w.config.n_embd, H = w.config.n_head, hd = C / H;
    Array ids = load(dir + "input_ids.npy");
    const size_t T = ids.shape[1];
    auto text = reference_text_pass(w, row_ids(ids, 0, T), {.keep_hidden_states = true});
    ASSERT_EQ(text.cache.length, T);

    // Hidden states per layer, [n_layer+1, 1, T, C]; the last one is after ln_f.
    Array hs = load(dir + "text_hidden_states.npy");
    ASSERT_EQ(hs.shape[0], w.config.n_layer + 1);
    ASSERT_EQ(text.hidden_states.size(), w.config.n_layer + 1);
    for (size_t l = 0; l < hs.shape[0]; ++l) {
        auto ref = slice(hs, l * T * C, T * C);
        auto got = to_double(text.hidden_states[l].values());
        EXPECT_TRUE(test::all_close(got, ref, kHiddenAtol, 0)) << "hidden state " << l;
        report(dir + "text_hidden_states[" + std::to_string(l) + "]", max_abs_diff(got, ref));
    }
    // Layer-0 keys and values, [1, H, T, hd] vs our T×C.
    for (const char* kv : {"past_key_l0", "past_value_l0"}) {
        Array ref = load(dir + kv + ".npy");
        const Matrix& m = kv[5] == 'k' ? text.cache.k[0] : text.cache.v[0];
        std::vector<double> got;
        for (size_t h = 0; h < H; ++h)
            for (size_t t = 0; t < T; ++t)
                for (size_t d = 0; d < hd; ++d) got.push_back(m(t, h * hd + d));
        EXPECT_TRUE(test::all_close(got, ref.v, kHiddenAtol, 0)) << kv;
        report(dir + kv, max_abs_diff(got, ref.v));
    }

    // The prompt pass as the seed does it (a single row: positions T … T+P-1).
    const Matrix p = prompt();
    auto pr = reference_prompt_pass(w, text.cache, p,
                                    {.keep_all_hidden = true, .logits = LogitsRequest::full});
    EXPECT_EQ(pr.position_start, T);
    Array all = load(dir + "prompt_hidden_all.npy");
    EXPECT_TRUE(test::all_close(to_double(pr.all_hidden.values()), all.v, kHiddenAtol, 0));
    report(dir + "prompt_hidden_all", max_abs_diff(to_double(pr.all_hidden.values()), all.v));
    Array last = load(dir + "prompt_last_hidden.npy");
    EXPECT_TRUE(test::all_close(to_double(pr.last_hidden), last.v, kHiddenAtol, 0));
    report(dir + "prompt_last_hidden", max_abs_diff(to_double(pr.last_hidden), last.v));
    Array last64 = load(dir + "prompt_last_hidden_f64.npy");
    EXPECT_TRUE(test::all_close(to_double(pr.last_hidden), last64.v, kF64Atol, kF64Rtol));
    report(dir + "prompt_last_hidden vs f64", max_abs_diff(to_double(pr.last_hidden), last64.v));
    Array logits = load(dir + "prompt_last_logits.npy");
    ASSERT_EQ(pr.logits.size(), w.config.vocab_size);
    EXPECT_TRUE(test::all_close(to_double(pr.logits), logits.v, kLogitAtol, 0));
    report(dir + "prompt_last_logits", max_abs_diff(to_double(pr.logits), logits.v));

    // Selected ids give exactly the same numbers as the full vocabulary.
    const std::vector<int32_t> chosen = {11274, 14774, 0, 50256};
    auto sel = reference_prompt_pass(
        w, text.cache, p, {.logits = LogitsRequest::selected, .logit_token_ids = chosen});
    ASSERT_EQ(sel.logits.size(), chosen.size());
    for (size_t i = 0; i < chosen.size(); ++i)
        EXPECT_EQ(sel.logits[i], pr.logits[size_t(chosen[i])]);
    EXPECT_EQ(sel.last_hidden, pr.last_hidden);
    EXPECT_TRUE(sel.all_hidden.empty());
}

INSTANTIATE_TEST_SUITE_P(Cases, Gpt2GoldenSingle, ::testing::Values(0, 1, 2, 3));

// Runs each row of a padded batch UNPADDED with the given prompt starts and compares last hidden
// states and the logits of the ids in `<dir>/logit_ids.npy`.
void check_batch(const std::string& dir, const std::vector<size_t>& starts_or_empty,
                 const std::string& hidden_file, const std::string& logits_file,
                 double hidden_atol = kHiddenAtol, double hidden_rtol = 0) {
    const auto& w = tiny();
    Array ids = load(dir + "input_ids.npy"), mask = load(dir + "attention_mask.npy");
    Array ref = load(dir + hidden_file), ref_logits = load(dir + logits_file);
    Array lid = load(dir + "logit_ids.npy");
    std::vector<int32_t> chosen(lid.v.begin(), lid.v.end());
    const Matrix p = prompt();
    const size_t C = w.config.n_embd;
    double err = 0, err_logits = 0;
    for (size_t r = 0; r < ids.shape[0]; ++r) {
        const size_t n = row_length(mask, r);
        auto text = reference_text_pass(w, row_ids(ids, r, n));
        PromptPassOptions o{.logits = LogitsRequest::selected, .logit_token_ids = chosen};
        if (!starts_or_empty.empty()) o.position_start = starts_or_empty[r];
        auto pr = reference_prompt_pass(w, text.cache, p, o);
        auto h = slice(ref, r * C, C), lg = slice(ref_logits, r * chosen.size(), chosen.size());
        EXPECT_TRUE(test::all_close(to_double(pr.last_hidden), h, hidden_atol, hidden_rtol))
            << "row " << r;
        EXPECT_TRUE(test::all_close(to_double(pr.logits), lg, kLogitAtol, 0)) << "row " << r;
        err = std::max(err, max_abs_diff(to_double(pr.last_hidden), h));
        err_logits = std::max(err_logits, max_abs_diff(to_double(pr.logits), lg));
    }
    report(dir + hidden_file, err);
    report(dir + logits_file + " (" + std::to_string(chosen.size()) + " ids)", err_logits);
}

std::vector<size_t> lengths(const std::string& dir) {
    Array mask = load(dir + "attention_mask.npy");
    std::vector<size_t> out;
    for (size_t r = 0; r < mask.shape[0]; ++r) out.push_back(row_length(mask, r));
    return out;
}

TEST(Gpt2GoldenPadded, HfPaddedPositionsReproduceTheSeedsBatchWithoutPadding) {
    auto len = lengths("padded/");
    auto starts = hf_padded_prompt_starts(len, 32);
    EXPECT_EQ(starts, std::vector<size_t>(len.size(), 16));
    check_batch("padded/", starts, "prompt_last_hidden.npy", "prompt_last_logits_subset.npy");
    check_batch("padded/", starts, "prompt_last_hidden_f64.npy", "prompt_last_logits_subset.npy",
                kF64Atol, kF64Rtol);
}

TEST(Gpt2GoldenPadded, PerRowPositionsAreTheDefault) {
    // The golden per-row position ids are len_i + arange(P): what the default start gives.
    Array pos = load("padded/perrow_position_ids.npy");
    auto len = lengths("padded/");
    for (size_t r = 0; r < len.size(); ++r) EXPECT_EQ(pos.v[r * pos.shape[1]], double(len[r]));
    check_batch("padded/", {}, "prompt_last_hidden_perrow.npy",
                "prompt_last_logits_perrow_subset.npy");
}

TEST(Gpt2GoldenE2E, BatchedAndSingleFromInputIds) {
    auto starts = hf_padded_prompt_starts(lengths("e2e/"), 32);
    check_batch("e2e/", starts, "prompt_last_hidden.npy", "prompt_last_logits_subset.npy");
    check_batch("e2e/", starts, "prompt_last_hidden_f64.npy", "prompt_last_logits_subset.npy",
                kF64Atol, kF64Rtol);
    // Each text alone: positions len_i …, the default.
    const auto& w = tiny();
    Array ids = load("e2e/input_ids.npy"), mask = load("e2e/attention_mask.npy");
    Array single = load("e2e/prompt_last_hidden_single.npy");
    double err = 0;
    for (size_t r = 0; r < ids.shape[0]; ++r) {
        auto text = reference_text_pass(w, row_ids(ids, r, row_length(mask, r)));
        auto pr = reference_prompt_pass(w, text.cache, prompt());
        auto ref = slice(single, r * w.config.n_embd, w.config.n_embd);
        EXPECT_TRUE(test::all_close(to_double(pr.last_hidden), ref, kHiddenAtol, 0));
        err = std::max(err, max_abs_diff(to_double(pr.last_hidden), ref));
    }
    report("e2e/prompt_last_hidden_single", err);
}

TEST(Gpt2Reference, OneTextPassServesManyPromptsIdentically) {
    const auto& w = tiny();
    auto text = reference_text_pass(w, std::vector<int32_t>{464, 3290, 373, 922, 13});
    Matrix p = prompt(), q = prompt();
    for (float& v : q.values()) v *= -0.5f;
    auto a1 = reference_prompt_pass(w, text.cache, p);
    auto b = reference_prompt_pass(w, text.cache, q);
    auto a2 = reference_prompt_pass(w, text.cache, p);
    EXPECT_EQ(a1.last_hidden, a2.last_hidden);  // the cache is not modified by a prompt pass
    EXPECT_NE(a1.last_hidden, b.last_hidden);
    // A 1-row prompt works too, and the position start is honoured.
    auto one = reference_prompt_pass(w, text.cache, p.row_range(0, 1), {.position_start = 40});
    EXPECT_EQ(one.position_start, 40u);
}

TEST(Gpt2Reference, BadInputsAreClearErrors) {
    const auto& w = tiny();
    auto expect_error = [](auto&& fn, const std::string& needle) {
        try {
            fn();
            ADD_FAILURE() << "no error; expected one containing \"" << needle << "\"";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    expect_error([&] { reference_text_pass(w, std::vector<int32_t>{}); }, "empty");
    expect_error([&] { reference_text_pass(w, std::vector<int32_t>{1, 50257}); }, "id 50257");
    expect_error([&] { reference_text_pass(w, std::vector<int32_t>(65, 1)); }, "65 tokens");
    auto text = reference_text_pass(w, std::vector<int32_t>{1, 2, 3});
    Matrix wide(4, 33);
    expect_error([&] { reference_prompt_pass(w, text.cache, wide); }, "4×33");
    expect_error([&] { reference_prompt_pass(w, text.cache, prompt(), {.position_start = 61}); },
                 "61 … 64");
    expect_error(
        [&] {
            reference_prompt_pass(w, text.cache, prompt(),
                                  {.logits = LogitsRequest::selected, .logit_token_ids = {-1}});
        },
        "id -1");
    expect_error([] { hf_padded_prompt_starts(std::vector<size_t>{1}, 0); }, "batch size");
}

}  // namespace
}  // namespace promptlens
