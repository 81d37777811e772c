// The HTML report's data model and page writer (src/report). The page's behaviour in a browser is
// tested by tests/browser/report.test.mjs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "report/report_assets.hpp"
#include "report/report_html.hpp"
#include "test_helpers.hpp"

namespace promptlens::report {
namespace {

ReportData small_report() {
    ReportData d;
    d.title = "t <x>";
    d.rows = {{"a", "first </script><!-- text", ""}, {"b", "second", "s.txt"}, {"", "third", ""}};
    d.label_names = {"bad", "good"};
    d.labels = {0, 1, 1};
    d.neighbor_sets.push_back({"features", 1, {1, 2, 1}});
    Panel p;
    p.id = "pca";
    p.title = "PCA";
    p.xy = {-1.5f, 2.f, 0.25f, 3.f, 10.f, 2.5f};
    p.clusters = {0, 0, 300};
    p.label_token_won = {1, 0, 1};
    p.neighbor_set = 0;
    d.panels.push_back(p);
    d.tables.push_back({"Purity", {"cluster", "bad", "good"}, {{"0", "0.5", "0.5"}}, "note"});
    return d;
}

std::vector<uint32_t> decode(const nlohmann::json& typed) {
    const std::vector<uint8_t> b = base64_decode(typed["b"].get<std::string>());
    const std::string t = typed["t"];
    const size_t w = t == "u8" ? 1 : t == "u16" ? 2 : 4;
    std::vector<uint32_t> out(b.size() / w);
    for (size_t i = 0; i < out.size(); ++i)
        for (size_t k = 0; k < w; ++k) out[i] |= uint32_t{b[i * w + k]} << (8 * k);
    return out;
}

TEST(Report, Base64RoundTripsEveryLength) {
    for (size_t n = 0; n < 10; ++n) {
        std::vector<uint8_t> bytes;
        for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<uint8_t>(250 - 37 * i));
        EXPECT_EQ(base64_decode(base64_encode(bytes.data(), n)), bytes) << n;
    }
    EXPECT_EQ(base64_encode("Man", 3), "TWFu");
    EXPECT_EQ(base64_encode("Ma", 2), "TWE=");
    EXPECT_EQ(base64_encode("M", 1), "TQ==");
}

TEST(Report, ClipTextCountsCodePointsAndRepairsUtf8) {
    EXPECT_EQ(clip_text("h\xC3\xA9llo", 3), "h\xC3\xA9l\u2026");  // é is one character
    EXPECT_EQ(clip_text("abc", 3), "abc");
    EXPECT_EQ(clip_text("abc", 0), "abc");
    EXPECT_EQ(clip_text("a\xFF"
                        "b",
                        0),
              "a\uFFFD"
              "b");
    EXPECT_EQ(clip_text("\xED\xA0\x80", 0), "\uFFFD\uFFFD\uFFFD");  // a UTF-16 surrogate
}

TEST(Report, JsonQuantisesCoordinatesWithinHalfAStep) {
    const ReportData d = small_report();
    const nlohmann::json j = to_json(d);
    const auto& p = j["panels"][0];
    const std::vector<uint32_t> q = decode(p["xy"]);
    ASSERT_EQ(q.size(), 6u);
    for (size_t i = 0; i < 6; ++i) {
        const auto& range = p[i % 2 == 0 ? "x_range" : "y_range"];
        const double lo = range[0], hi = range[1];
        const double x = lo + q[i] / 65535.0 * (hi - lo);
        // the quantisation step is (hi − lo)/65,535; rounding errs by at most half of it
        EXPECT_LE(std::abs(x - d.panels[0].xy[i]), 0.5 * (hi - lo) / 65535.0 + 1e-12) << i;
    }
    EXPECT_EQ(p["clusters"]["t"], "u16");  // 300 does not fit a byte
    EXPECT_EQ(decode(p["clusters"]), (std::vector<uint32_t>{0, 0, 300}));
    EXPECT_EQ(p["n_clusters"], 301);
    EXPECT_EQ(decode(p["won"]), (std::vector<uint32_t>{1, 0, 1}));
    EXPECT_EQ(decode(j["labels"]), (std::vector<uint32_t>{0, 1, 1}));
    EXPECT_EQ(decode(j["neighbor_sets"][0]["ids"]), (std::vector<uint32_t>{1, 2, 1}));
    EXPECT_EQ(j["label_colours"][0], "#0072b2");  // plot/palette.hpp: Okabe-Ito blue first
    EXPECT_EQ(j["ids"][2], "");
    EXPECT_TRUE(j["sources"].is_array());
}

TEST(Report, EmptyColumnsAreNullAndLongTextsAreCut) {
    ReportData d = small_report();
    for (Row& r : d.rows) r.source.clear();
    d.rows[1].text = std::string(50, 'x');
    const nlohmann::json j = to_json(d, {.max_text_chars = 10});
    EXPECT_TRUE(j["sources"].is_null());
    EXPECT_EQ(j["texts"][1], std::string(10, 'x') + "\u2026");
    EXPECT_EQ(j["texts_clipped"], 2);  // the first text is 24 characters
}

TEST(Report, ValidateNamesWhatIsWrong) {
    auto message = [](const ReportData& d) {
        try {
            validate(d);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    ReportData d = small_report();
    d.panels[0].xy.pop_back();
    EXPECT_EQ(message(d), "report: panel 'pca' has 5 coordinates, expected 3 rows x 2");
    d = small_report();
    d.labels[2] = 2;
    EXPECT_EQ(message(d), "report: row 2 has label code 2, but there are 2 label names");
    d = small_report();
    d.neighbor_sets[0].ids[1] = 3;
    EXPECT_EQ(message(d),
              "report: neighbour set 0 ('features'), row 1: neighbour id 3 is outside 0..2");
    d = small_report();
    d.panels[0].xy[3] = std::nanf("");
    EXPECT_EQ(message(d), "report: panel 'pca', row 1: coordinate 1 is nan");
    d = small_report();
    d.panels.push_back(d.panels[0]);
    EXPECT_EQ(message(d), "report: two panels have the id 'pca'");
    d = small_report();
    d.tables[0].rows[0].pop_back();
    EXPECT_EQ(message(d), "report: table 'Purity', row 0 has 2 cells for 3 columns");
}

TEST(Report, PageInlinesEverythingAndNoTextEndsTheScript) {
    const std::string page = render_report_html(small_report());
    EXPECT_EQ(page.find("__PROMPTLENS_"), std::string::npos);
    EXPECT_NE(page.find("<title>t &lt;x&gt;</title>"), std::string::npos);
    EXPECT_NE(page.find("Content-Security-Policy"), std::string::npos);
    // the data script holds no '<' at all: "</script>" and "<!--" in a text are escaped
    const std::string open = "<script type=\"application/json\" id=\"promptlens-data\">";
    const size_t a = page.find(open) + open.size(), b = page.find("</script>", a);
    const std::string data = page.substr(a, b - a);
    EXPECT_EQ(data.find('<'), std::string::npos);
    EXPECT_EQ(nlohmann::json::parse(data)["texts"][0], "first </script><!-- text");
    // nothing is fetched: no src= or href= to anything (blob: URLs are made at export time)
    EXPECT_EQ(page.find("src=\"http"), std::string::npos);
    EXPECT_EQ(page.find("<link"), std::string::npos);
    EXPECT_EQ(script_safe_json(R"({"a":"<b>"})"), R"({"a":"\u003cb>"})");
}

TEST(Report, AssetsAreAsciiAndEmbedded) {
    for (std::string_view asset :
         {assets::template_html(), assets::report_css(), assets::report_js()}) {
        EXPECT_GT(asset.size(), 1000u);
        for (char c : asset) ASSERT_LT(static_cast<unsigned char>(c), 0x80u);
    }
}

TEST(Report, WritesAtomically) {
    test::TempDir dir;
    const auto path = dir.path() / "sub" / "r.html";
    const size_t bytes = write_report_html(path, small_report());
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    EXPECT_EQ(s.str().size(), bytes);
    EXPECT_EQ(s.str(), render_report_html(small_report()));
}

// 16 panels × 25,000 rows: the embedded JSON stays small (measured: see the report).
TEST(Report, SixteenPanelsOfTwentyFiveThousandRowsStayCompact) {
    const size_t n = 25000;
    ReportData d;
    d.label_names = {"bad", "good"};
    d.rows.resize(n);
    d.labels.resize(n);
    for (size_t i = 0; i < n; ++i) d.labels[i] = static_cast<int32_t>(i % 2);
    d.neighbor_sets.push_back({"features", 5, std::vector<int32_t>(5 * n, 7)});
    for (int p = 0; p < 16; ++p) {
        Panel panel;
        panel.id = fmt::format("p{}", p);
        panel.xy.resize(2 * n);
        for (size_t i = 0; i < 2 * n; ++i) panel.xy[i] = static_cast<float>(std::sin(i * 0.37 + p));
        panel.clusters.assign(n, 1);
        panel.neighbor_set = 0;
        d.panels.push_back(std::move(panel));
    }
    const size_t bytes = render_report_html(d).size();
    // coordinates 16×25k×2×2 bytes ×4/3 (base64) = 2.13 MB, clusters 0.53 MB, neighbours 0.17 MB
    EXPECT_LT(bytes, 3'000'000u);
    EXPECT_GT(bytes, 2'700'000u);
}

}  // namespace
}  // namespace promptlens::report
