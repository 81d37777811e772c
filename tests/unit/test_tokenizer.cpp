// GPT-2 tokenizer against HuggingFace transformers 4.31's GPT2Tokenizer (slow): every golden
// sentence, e-mail and corner case must give the same ids, byte for byte (no tolerance: ids are
// integers), and decode back to the text. Golden files: tests/data/gpt2/ (see its README).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <thread>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "test_helpers.hpp"
#include "text/byte_unicode.hpp"
#include "text/gpt2_tokenizer.hpp"
#include "text/utf8.hpp"

namespace promptlens {
namespace {

using test::error_of;

using text::Gpt2Tokenizer;

const Gpt2Tokenizer& gpt2() {
    static const Gpt2Tokenizer t = Gpt2Tokenizer::load(test::data_path("gpt2"));
    return t;
}

struct Golden {
    std::string text;
    std::vector<int32_t> ids;
};

std::vector<Golden> read_golden(const std::string& name) {
    std::ifstream in(test::data_path("gpt2/" + name));
    EXPECT_TRUE(in.good()) << name;
    std::vector<Golden> out;
    for (std::string line; std::getline(in, line);) {
        auto j = nlohmann::json::parse(line);
        out.push_back({j["text"].get<std::string>(), j["ids"].get<std::vector<int32_t>>()});
    }
    return out;
}

void expect_all_exact(const std::vector<Golden>& golden, size_t expected_rows) {
    ASSERT_EQ(golden.size(), expected_rows);
    size_t wrong = 0, wrong_decode = 0, tokens = 0;
    for (size_t i = 0; i < golden.size(); ++i) {
        const auto ids = gpt2().encode(golden[i].text);
        tokens += ids.size();
        if (ids != golden[i].ids && wrong++ < 3) {
            ADD_FAILURE() << "row " << i
                          << " ids differ from HF: " << golden[i].text.substr(0, 200);
        }
        if (gpt2().decode(golden[i].ids) != golden[i].text && wrong_decode++ < 3) {
            ADD_FAILURE() << "row " << i
                          << " does not decode back: " << golden[i].text.substr(0, 200);
        }
    }
    EXPECT_EQ(wrong, 0u) << "of " << golden.size();
    EXPECT_EQ(wrong_decode, 0u) << "of " << golden.size();
    EXPECT_GT(tokens, 0u);
}

TEST(TokenizerGolden, AllReviewSentencesExact) {
    expect_all_exact(read_golden("sentences.jsonl"), 3000);
}

TEST(TokenizerGolden, AllRawEmailsExact) {
    expect_all_exact(read_golden("emails.jsonl"), 150);
}

TEST(TokenizerGolden, CornerCasesIdsTokensAndDecoded) {
    std::ifstream in(test::data_path("gpt2/corner_cases.json"));
    auto j = nlohmann::json::parse(in);
    ASSERT_EQ(j["cases"].size(), 14u);
    for (const auto& c : j["cases"]) {
        const std::string t = c["text"];
        SCOPED_TRACE(t);
        const auto ids = gpt2().encode(t);
        EXPECT_EQ(ids, c["ids"].get<std::vector<int32_t>>());
        std::vector<std::string> tokens;
        for (int32_t id : ids) tokens.push_back(gpt2().token(id));
        EXPECT_EQ(tokens, c["tokens"].get<std::vector<std::string>>());
        // HF decodes with clean_up_tokenization_spaces (e.g. " 're" -> "'re"); raw gives the text.
        EXPECT_EQ(gpt2().decode(ids, {.clean_up_spaces = true}), c["decoded"].get<std::string>());
        EXPECT_EQ(gpt2().decode(ids), t);
    }
}

TEST(Tokenizer, KnownIdsAndVocabulary) {
    EXPECT_EQ(gpt2().vocab_size(), 50257u);
    EXPECT_EQ(gpt2().bpe().n_merges(), 50000u);
    EXPECT_TRUE(gpt2().bpe().ordered());
    EXPECT_EQ(gpt2().token_id("good"), 11274);
    EXPECT_EQ(gpt2().token_id("bad"), 14774);
    EXPECT_EQ(gpt2().token_id("\xC4\xA0good"), 922);  // "Ġgood"
    EXPECT_EQ(gpt2().encode(" bad"), std::vector<int32_t>{2089});
    EXPECT_EQ(gpt2().eos_id(), 50256);
    EXPECT_THROW(gpt2().decode(std::vector<int32_t>{50257}), Error);
    EXPECT_THROW(gpt2().decode(std::vector<int32_t>{-1}), Error);
}

TEST(Tokenizer, EndOfTextInTextIsOneId) {
    EXPECT_EQ(gpt2().encode("<|endoftext|>"), std::vector<int32_t>{50256});
    EXPECT_EQ(gpt2().encode("a<|endoftext|>b"), (std::vector<int32_t>{64, 50256, 65}));
    const auto plain = gpt2().encode("<|endoftext|>", {.special_tokens = false});
    EXPECT_GT(plain.size(), 1u);
    EXPECT_EQ(gpt2().decode(plain), "<|endoftext|>");
    EXPECT_EQ(gpt2().decode(std::vector<int32_t>{64, 50256, 65}, {.skip_special_tokens = true}),
              "ab");
}

TEST(Tokenizer, RightTruncation) {
    const std::string t = "The acting, however, wasn't good at all.";
    const auto all = gpt2().encode(t);
    ASSERT_GT(all.size(), 5u);
    const auto five = gpt2().encode(t, {.max_length = 5});
    EXPECT_EQ(five, std::vector<int32_t>(all.begin(), all.begin() + 5));
    EXPECT_EQ(gpt2().encode(t, {.max_length = 1000}), all);
    EXPECT_EQ(gpt2().encode(t, {.max_length = 0}), all);  // 0: no limit
}

TEST(Tokenizer, InvalidUtf8IsAnErrorNamingTheOffset) {
    try {
        gpt2().encode(
            "ok\n ab\xFF"
            "c",
            {}, "review 7");
        FAIL() << "no error";
    } catch (const Error& e) {
        {
            const std::string m = e.what();
            EXPECT_NE(m.find("review 7"), std::string::npos) << m;
            EXPECT_NE(m.find("byte offset 6"), std::string::npos) << m;
            EXPECT_NE(m.find("line 2"), std::string::npos) << m;
            EXPECT_NE(m.find("0xFF"), std::string::npos) << m;
        }
    }
    // Replacement: U+FFFD, then tokenised like any other character.
    const auto ids = gpt2().encode(
        "ab\xFF"
        "c",
        {.invalid_utf8 = text::InvalidUtf8::replace});
    EXPECT_EQ(ids, gpt2().encode("ab\xEF\xBF\xBD"
                                 "c"));
}

TEST(Tokenizer, ReplacementMatchesPythonErrorsReplace) {
    // Expected values printed by /usr/bin/python3: b.decode("utf-8", "replace").encode().
    const std::string R = "\xEF\xBF\xBD";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"ab\xFF"
         "c",
         "ab" + R + "c"},
        {"\xE2\x82"
         "a",
         R + "a"},                            // truncated sequence: one U+FFFD
        {"\xED\xA0\x80x", R + R + R + "x"},   // surrogate: one per byte
        {"\xF0\x9F\x98", R},                  // truncated emoji at the end
        {"\xC0\xAF", R + R},                  // overlong
        {"\xF4\x90\x80\x80", R + R + R + R},  // above U+10FFFF
        {"ok\xE6\x97\xA5\xE6\x9C", "ok\xE6\x97\xA5" + R},
        {"\x80\x80", R + R},
    };
    for (const auto& [in, want] : cases) {
        EXPECT_EQ(text::replace_invalid_utf8(in), want);
        EXPECT_TRUE(text::find_invalid_utf8(in).has_value());
    }
    EXPECT_FALSE(
        text::find_invalid_utf8("Caf\xC3\xA9 \xF0\x9F\x98\x80 plain ascii text").has_value());
    // Decoding half of a multi-byte character gives U+FFFD, as HF's decode does.
    const auto ids = gpt2().encode("\xF0\x9F\x98\x80");  // one emoji, two tokens
    ASSERT_EQ(ids.size(), 2u);
    EXPECT_EQ(gpt2().decode(std::span<const int32_t>(ids.data(), 1)), R);
}

TEST(Tokenizer, ByteUnicodeMap) {
    EXPECT_EQ(text::byte_to_unicode(' '), U'\u0120');
    EXPECT_EQ(text::byte_to_unicode('\n'), U'\u010A');
    EXPECT_EQ(text::byte_to_unicode('A'), U'A');
    std::set<char32_t> seen;
    for (int b = 0; b < 256; ++b) {
        const char32_t c = text::byte_to_unicode(uint8_t(b));
        seen.insert(c);
        EXPECT_EQ(text::unicode_to_byte(c), uint8_t(b));
    }
    EXPECT_EQ(seen.size(), 256u);
    std::string all;
    for (int b = 0; b < 256; ++b) all += char(b);
    EXPECT_EQ(text::token_text_to_bytes(text::bytes_to_token_text(all)), all);
}

// The heap BPE (long words) against HF's loop, on every golden word and on long random words.
TEST(Tokenizer, HeapBpeEqualsReference) {
    const auto& t = gpt2();
    std::vector<std::string> words;
    for (const auto* f : {"sentences.jsonl", "emails.jsonl"})
        for (const auto& g : read_golden(f))
            for (auto w : t.pretokenizer().split(g.text)) words.emplace_back(w);
    Rng rng(7, 0);
    const std::string alphabet = "aaabbcdeeeinorst  ";
    for (int k = 0; k < 200; ++k) {
        std::string w;
        const size_t n = 1 + rng.below(400);
        for (size_t i = 0; i < n; ++i) w += alphabet[rng.below(alphabet.size())];
        words.push_back(w);
    }
    words.push_back(std::string(1000, 'a'));
    words.push_back(std::string(777, '='));
    size_t differ = 0;
    for (const auto& w : words) {
        std::vector<int32_t> ref, heap;
        t.bpe().encode_word_reference(w, ref);
        t.bpe().encode_word_heap(w, heap);
        if (ref != heap && differ++ < 3) ADD_FAILURE() << "word '" << w << "'";
    }
    EXPECT_EQ(differ, 0u) << "of " << words.size() << " words";
    // A very long word is fast (the reference would be quadratic).
    const auto start = std::chrono::steady_clock::now();
    const auto ids = t.encode(std::string(200000, 'x'));
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 2.0);
    EXPECT_EQ(t.decode(ids), std::string(200000, 'x'));
}

TEST(Tokenizer, SameIdsFromSeveralThreads) {
    const auto golden = read_golden("sentences.jsonl");
    std::vector<std::vector<int32_t>> got(golden.size());
    std::vector<std::thread> threads;
    for (size_t w = 0; w < 3; ++w) {
        threads.emplace_back([&, w] {
            for (size_t i = w; i < golden.size(); i += 3) got[i] = gpt2().encode(golden[i].text);
        });
    }
    for (auto& th : threads) th.join();
    for (size_t i = 0; i < golden.size(); ++i) ASSERT_EQ(got[i], golden[i].ids) << i;
}

// ---- model folders and broken files ----------------------------------------------------------

TEST(TokenizerFiles, TokenizerJsonGivesTheSameIds) {
    test::TempDir dir;
    nlohmann::json vocab =
        nlohmann::json::parse(test::read_bytes(test::data_path("gpt2/vocab.json")));
    nlohmann::json merges = nlohmann::json::array();
    std::ifstream in(test::data_path("gpt2/merges.txt"));
    std::string line;
    std::getline(in, line);  // #version
    for (size_t k = 0; std::getline(in, line); ++k) {
        if (line.empty()) continue;
        // Both spellings HF writes: "a b" (older) and ["a", "b"] (newer).
        if (k % 2) {
            merges.push_back(line);
        } else {
            const auto sp = line.find(' ');
            merges.push_back({line.substr(0, sp), line.substr(sp + 1)});
        }
    }
    nlohmann::json tj = {
        {"version", "1.0"},
        {"added_tokens", {{{"id", 50256}, {"content", "<|endoftext|>"}, {"special", true}}}},
        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}}};
    test::write_bytes(dir / "tokenizer.json", tj.dump());
    const auto t = Gpt2Tokenizer::load(dir.path());  // no vocab.json / merges.txt there
    EXPECT_EQ(t.vocab_size(), 50257u);
    for (const auto& g : read_golden("sentences.jsonl"))
        ASSERT_EQ(t.encode(g.text), g.ids) << g.text;
    EXPECT_EQ(t.encode("x<|endoftext|>"), (std::vector<int32_t>{87, 50256}));
}

TEST(TokenizerFiles, MissingFilesAreNamed) {
    test::TempDir dir;
    auto m = error_of([&] { Gpt2Tokenizer::load(dir.path()); });
    EXPECT_NE(m.find("vocab.json and merges.txt"), std::string::npos) << m;
    EXPECT_NE(m.find("tokenizer.json"), std::string::npos) << m;
    m = error_of([&] { Gpt2Tokenizer::from_files(dir / "vocab.json", dir / "merges.txt"); });
    EXPECT_NE(m.find("vocab.json"), std::string::npos) << m;
    EXPECT_NE(m.find("cannot open"), std::string::npos) << m;
}

// A tiny valid vocabulary: the 256 byte tokens, "ab" and "abc".
std::string tiny_vocab(const std::string& extra) {
    std::string v = "{\n";
    for (int b = 0; b < 256; ++b) {
        nlohmann::json key = text::bytes_to_token_text(std::string(1, char(b)));
        v += key.dump() + ": " + std::to_string(b) + ",\n";
    }
    return v + "\"ab\": 256,\n\"abc\": 257" + extra + "\n}\n";
}

TEST(TokenizerFiles, TinyVocabularyWorks) {
    test::TempDir dir;
    test::write_bytes(dir / "vocab.json", tiny_vocab(""));
    test::write_bytes(dir / "merges.txt", "#version: 0.2\na b\nab c\n");
    const auto t = Gpt2Tokenizer::load(dir.path());
    EXPECT_EQ(t.encode("abcab"), (std::vector<int32_t>{257, 256}));
    EXPECT_EQ(t.decode(std::vector<int32_t>{257, 256}), "abcab");
    EXPECT_FALSE(t.eos_id().has_value());
}

TEST(TokenizerFiles, BrokenVocabNamesFileAndLine) {
    test::TempDir dir;
    test::write_bytes(dir / "merges.txt", "#version: 0.2\na b\n");
    auto check = [&](const std::string& vocab, const std::string& want) {
        test::write_bytes(dir / "vocab.json", vocab);
        const auto m = error_of([&] { Gpt2Tokenizer::load(dir.path()); });
        EXPECT_NE(m.find("vocab.json"), std::string::npos) << m;
        EXPECT_NE(m.find(want), std::string::npos) << "want '" << want << "' in: " << m;
    };
    check(tiny_vocab(",\n\"abd\": 1.5"), "line 260: expected a non-negative integer id");
    check(tiny_vocab(",\n\"abd\": \"x\""), "line 260: expected a non-negative integer id");
    check(tiny_vocab(",\n\"abd\" 258"), "line 260: expected ':'");
    check(tiny_vocab(",\n\"abd\": 257"),
          "line 260: id 257 of 'abd' is also the id of 'abc' (line 259)");
    check(tiny_vocab(",\n\"ab\": 300"), "line 260: token 'ab' is listed again (first on line 258)");
    check(tiny_vocab("").substr(0, 1000), "file ends");
    check("{\"a\": 0}", "no token for byte 0x00");
    check(tiny_vocab(",\n\"\xFF\": 300"), "line 260: invalid UTF-8");
    check("[1, 2]", "line 1: expected a JSON object");
}

TEST(TokenizerFiles, BrokenMergesNamesFileAndLine) {
    test::TempDir dir;
    test::write_bytes(dir / "vocab.json", tiny_vocab(""));
    auto check = [&](const std::string& merges, const std::string& want) {
        test::write_bytes(dir / "merges.txt", merges);
        const auto m = error_of([&] { Gpt2Tokenizer::load(dir.path()); });
        EXPECT_NE(m.find("merges.txt"), std::string::npos) << m;
        EXPECT_NE(m.find(want), std::string::npos) << "want '" << want << "' in: " << m;
    };
    check("#version: 0.2\na b\nab c d\n", "line 3: expected two space-separated symbols, got 3");
    check("#version: 0.2\na b\nabc\n", "line 3: expected two space-separated symbols, got 1");
    check("#version: 0.2\na b\nb c\n", "line 3: merged symbol 'bc' is not in the vocabulary");
    check("#version: 0.2\na b\nzz c\n", "line 3: symbol 'zz' is not in the vocabulary");
}

}  // namespace
}  // namespace promptlens
