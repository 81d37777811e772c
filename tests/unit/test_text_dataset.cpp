// Datasets for `promptlens extract`: the IMDB folder layout in the seed's order, the same read
// from tar archives (gzip/plain, GNU long names, pax), CSV/TSV quoting, JSON Lines and arrays
// (npm sentiment's fixture shape), plain text with a label file, and every bad input with its
// location.
#include <gtest/gtest.h>

#include "data/tar_reader.hpp"
#include "data/text_dataset.hpp"
#include "extract/json_dataset.hpp"
#include "extract/load_dataset.hpp"
#include "test_helpers.hpp"

namespace promptlens {
namespace {

// Whether `text` holds `part`; on failure both are printed.
::testing::AssertionResult contains(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "'" << text << "' lacks '" << part << "'";
}

std::string ds_path(const std::string& rel) {
    return test::data_path("datasets/" + rel).string();
}

std::vector<std::string> sources(const TextDataset& d) {
    std::vector<std::string> s;
    for (const auto& r : d.rows) s.push_back(r.source);
    return s;
}
std::vector<std::string> labels(const TextDataset& d) {
    std::vector<std::string> s;
    for (const auto& r : d.rows) s.push_back(r.label);
    return s;
}

TEST(TextDataset, ImdbFoldersInTheSeedsOrder) {
    const auto d = read_folder_dataset(ds_path("imdb"));
    // pos first (files sorted as Python sorts names), then neg; unsup/ and notes.md ignored.
    EXPECT_EQ(sources(d), (std::vector<std::string>{"pos/0_10.txt", "pos/10_8.txt", "pos/2_9.txt",
                                                    "neg/0_2.txt", "neg/1_1.txt"}));
    EXPECT_EQ(labels(d), (std::vector<std::string>{"good", "good", "good", "bad", "bad"}));
    EXPECT_EQ(d.rows[2].text, "Wonderful acting,\nand a great score.");  // read_text(): CRLF → LF
    EXPECT_TRUE(d.has_labels);
}

TEST(TextDataset, LabelFoldersAsGiven) {
    FolderDatasetOptions o;
    o.folders = parse_name_pairs("neg=0,unsup", "--label-folders");
    const auto d = read_folder_dataset(ds_path("imdb"), o);
    EXPECT_EQ(labels(d), (std::vector<std::string>{"0", "0", "unsup"}));
    o.folders = {{"pos", "good"}, {"neutral", "meh"}};
    EXPECT_TRUE(contains(test::error_of([&] { read_folder_dataset(ds_path("imdb"), o); }),
                         "no label folder 'neutral' (found: neg, pos, unsup)"));
    EXPECT_TRUE(
        contains(test::error_of([] { parse_name_pairs("a=b,=c", "--label-tokens"); }), "'=c'"));
}

TEST(TextDataset, TarArchivesGiveTheSameRows) {
    const auto folders = read_folder_dataset(ds_path("imdb"));
    const auto tar = read_tar_dataset(ds_path("imdb.tar.gz"), "imdb/");
    ASSERT_EQ(tar.rows.size(), folders.rows.size());
    for (size_t i = 0; i < tar.rows.size(); ++i) {
        EXPECT_EQ(tar.rows[i].text, folders.rows[i].text);
        EXPECT_EQ(tar.rows[i].label, folders.rows[i].label);
        EXPECT_EQ(tar.rows[i].source, "imdb/" + folders.rows[i].source);
    }
    // Names over 100 bytes: GNU 'L' entries (gzip) and pax headers (plain tar).
    const std::string long_name = "aclImdb/test/pos/" + std::string(120, 'x') + "_10.txt";
    for (const char* f : {"long-names-gnu.tar.gz", "long-names-pax.tar"}) {
        const auto d = read_tar_dataset(ds_path(f), "aclImdb/test");
        EXPECT_EQ(sources(d), (std::vector<std::string>{"aclImdb/test/pos/1_9.txt", long_name,
                                                        "aclImdb/test/neg/0_1.txt"}))
            << f;
        EXPECT_EQ(d.rows[1].text, "Long names work.");
    }
}

TEST(TextDataset, BrokenArchivesAreNamed) {
    test::TempDir dir;
    const std::string gz = test::read_bytes(ds_path("imdb.tar.gz"));
    test::write_bytes(dir / "cut.tar.gz", gz.substr(0, gz.size() / 2));
    EXPECT_TRUE(
        contains(test::error_of([&] { read_tar_dataset(dir / "cut.tar.gz", ""); }), "cut.tar.gz"));
    test::write_bytes(dir / "text.tar", std::string(600, 'a'));
    EXPECT_TRUE(
        contains(test::error_of([&] { read_tar_dataset(dir / "text.tar", ""); }),
                 "text.tar: not a tar archive, or corrupt: bad number in the header at byte 0"));
    EXPECT_TRUE(contains(test::error_of([&] { read_tar_dataset(ds_path("imdb.tar.gz"), "nope"); }),
                         "no label sub-folders"));
}

TEST(TextDataset, CsvQuotingAndTsvColumns) {
    const auto d = read_delimited_dataset(ds_path("reviews.csv"));
    ASSERT_EQ(d.rows.size(), 3u);
    EXPECT_EQ(d.rows[0].text, "Great, truly great.");
    EXPECT_EQ(d.rows[1].text, "He said \"meh\" and\nleft early.");
    EXPECT_EQ(d.rows[2].text, "Plain text without quotes");
    EXPECT_EQ(labels(d), (std::vector<std::string>{"good", "bad", "good"}));
    EXPECT_EQ(sources(d),
              (std::vector<std::string>{"reviews.csv:2", "reviews.csv:3", "reviews.csv:6"}));
    DelimitedDatasetOptions o;
    o.text_column = "sentence";
    o.label_column = "sentiment";
    const auto t = read_delimited_dataset(ds_path("reviews.tsv"), o);
    EXPECT_EQ(t.format, "tsv");
    EXPECT_EQ(labels(t), (std::vector<std::string>{"1", "0"}));
    EXPECT_TRUE(contains(test::error_of([&] { read_delimited_dataset(ds_path("reviews.tsv")); }),
                         "no text column 'text' in the header (columns: sentence, sentiment); "
                         "choose one with --text-column"));
}

TEST(TextDataset, CsvErrorsNameTheLine) {
    test::TempDir dir;
    test::write_bytes(dir / "a.csv", "text,label\nok,good\ntoo,many,fields\n");
    EXPECT_TRUE(contains(test::error_of([&] { read_delimited_dataset(dir / "a.csv"); }),
                         "a.csv:3: 3 fields, but the header has 2"));
    test::write_bytes(dir / "b.csv", "text,label\n\"never closed,good\n");
    EXPECT_TRUE(contains(test::error_of([&] { read_delimited_dataset(dir / "b.csv"); }),
                         "b.csv:2: a quoted field is never closed"));
    test::write_bytes(dir / "c.csv", "text,label\nfine,\n");
    EXPECT_TRUE(contains(test::error_of([&] { read_delimited_dataset(dir / "c.csv"); }),
                         "c.csv:2: empty label in column 'label'"));
    test::write_bytes(dir / "d.csv", std::string("text,label\nbin\0ary,good\n", 23));
    EXPECT_TRUE(contains(test::error_of([&] { read_delimited_dataset(dir / "d.csv"); }),
                         "d.csv:2: not a text file (NUL byte at offset 3)"));
}

TEST(TextDataset, JsonArraysAndLines) {
    JsonDatasetOptions o;
    o.label_field = "class";  // npm sentiment's fixtures: [{"text": ..., "class": 0}, ...]
    const auto a = read_json_array_dataset(ds_path("sentiment.json"), o);
    EXPECT_EQ(labels(a), (std::vector<std::string>{"0", "1", "1"}));
    EXPECT_EQ(a.rows[2].text, "Brilliant!  ");
    EXPECT_EQ(a.rows[1].source, "sentiment.json[1]");
    const auto l = read_jsonl_dataset(ds_path("e2e.jsonl"));
    EXPECT_EQ(labels(l), (std::vector<std::string>{"good", "bad", "bad"}));
    EXPECT_EQ(l.rows[1].text, "Terrible.");
    EXPECT_TRUE(contains(test::error_of([&] { read_jsonl_dataset(ds_path("e2e.jsonl"), o); }),
                         "e2e.jsonl line 1: no \"class\" field (choose the label field with "
                         "--label-column)"));
}

TEST(TextDataset, InvalidUtf8IsAnErrorWithItsPlaceOrReplaced) {
    test::TempDir dir;
    test::write_bytes(dir / "x.jsonl",
                      "{\"text\":\"ok\",\"label\":\"a\"}\n{\"text\":\"b\xff\",\"label\":\"b\"}\n");
    DatasetOptions o;
    EXPECT_TRUE(contains(test::error_of([&] { load_text_dataset(dir / "x.jsonl", o); }),
                         "x.jsonl line 2: invalid UTF-8 at byte offset 10"));
    o.invalid_utf8 = text::InvalidUtf8::replace;
    EXPECT_EQ(load_text_dataset(dir / "x.jsonl", o).rows[1].text, "b\xEF\xBF\xBD");
    // Folders: the file is named.
    std::filesystem::create_directories(dir / "f/pos");
    std::filesystem::create_directories(dir / "f/neg");
    test::write_bytes(dir / "f/pos/a.txt", "fine");
    test::write_bytes(dir / "f/neg/b.txt", "caf\xe9");
    DatasetOptions fo;
    EXPECT_TRUE(contains(test::error_of([&] { load_text_dataset(dir / "f", fo); }),
                         "neg/b.txt: invalid UTF-8 at byte offset 3"));
    test::write_bytes(dir / "f/neg/b.txt", std::string("\x7f"
                                                       "ELF\0\0",
                                                       6));
    EXPECT_TRUE(contains(test::error_of([&] { load_text_dataset(dir / "f", fo); }),
                         "b.txt: not a text file (NUL byte at offset 4)"));
}

TEST(TextDataset, PlainLinesWithALabelFile) {
    const auto d = read_lines_dataset(ds_path("texts.txt"), ds_path("texts.labels.txt"));
    EXPECT_EQ(labels(d), (std::vector<std::string>{"a", "b", "a"}));
    EXPECT_EQ(d.rows[1].text, "second text");
    EXPECT_TRUE(contains(
        test::error_of([] { read_lines_dataset(ds_path("texts.txt"), ds_path("sentiment.json")); }),
        "sentiment.json: 1 labels for the 3 lines"));
    EXPECT_EQ(detect_dataset_format(ds_path("imdb.tar.gz")), "tar");
    EXPECT_EQ(detect_dataset_format(ds_path("imdb")), "folders");
}

}  // namespace
}  // namespace promptlens
