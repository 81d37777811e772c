// Figures: decode the PNG we wrote and check what must be there — every panel has points, every
// class colour appears in every panel, the legend shows each colour — and that the same seed
// gives the same bytes while another seed changes only the draw order.
#include <cairo.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "plot/axes.hpp"
#include "plot/heatmap.hpp"
#include "plot/palette.hpp"
#include "plot/scatter.hpp"
#include "test_helpers.hpp"

namespace promptlens {
namespace {

using plot::Rgb;

std::string slurp(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// A decoded PNG; pixel() returns un-premultiplied RGB in 0…255.
class Png {
  public:
    explicit Png(const std::filesystem::path& p)
        : s_(cairo_image_surface_create_from_png(p.c_str())) {}
    ~Png() { cairo_surface_destroy(s_); }
    Png(const Png&) = delete;
    Png& operator=(const Png&) = delete;
    bool ok() const { return cairo_surface_status(s_) == CAIRO_STATUS_SUCCESS; }
    int width() const { return cairo_image_surface_get_width(s_); }
    int height() const { return cairo_image_surface_get_height(s_); }
    std::array<int, 3> pixel(int x, int y) const {
        const unsigned char* row =
            cairo_image_surface_get_data(s_) + y * cairo_image_surface_get_stride(s_);
        uint32_t v;
        std::memcpy(&v, row + 4 * x, 4);
        return {static_cast<int>((v >> 16) & 0xFF), static_cast<int>((v >> 8) & 0xFF),
                static_cast<int>(v & 0xFF)};
    }
    // Pixels within `tol` (per channel) of colour c inside a rectangle given in points.
    int count_near(const Rgb& c, const plot::Rect& r, double scale, int tol) const {
        const int want[3] = {static_cast<int>(c.r * 255 + 0.5), static_cast<int>(c.g * 255 + 0.5),
                             static_cast<int>(c.b * 255 + 0.5)};
        int hits = 0;
        for (int y = static_cast<int>(r.y * scale); y < static_cast<int>((r.y + r.h) * scale);
             ++y) {
            for (int x = static_cast<int>(r.x * scale); x < static_cast<int>((r.x + r.w) * scale);
                 ++x) {
                const auto p = pixel(x, y);
                if (std::abs(p[0] - want[0]) <= tol && std::abs(p[1] - want[1]) <= tol &&
                    std::abs(p[2] - want[2]) <= tol) {
                    ++hits;
                }
            }
        }
        return hits;
    }

  private:
    cairo_surface_t* s_;
};

struct Blobs {
    Matrix xy;
    std::vector<int32_t> codes;
};

// `classes` Gaussian blobs of `per_class` points each, far apart.
Blobs make_blobs(size_t classes, size_t per_class, uint64_t seed) {
    Blobs b{Matrix(classes * per_class, 2), {}};
    Rng rng(seed);
    for (size_t c = 0; c < classes; ++c) {
        for (size_t i = 0; i < per_class; ++i) {
            const size_t r = c * per_class + i;
            b.xy(r, 0) =
                static_cast<float>(10.0 * std::cos(2.0 * M_PI * c / classes) + rng.normal());
            b.xy(r, 1) =
                static_cast<float>(10.0 * std::sin(2.0 * M_PI * c / classes) + rng.normal());
            b.codes.push_back(static_cast<int32_t>(c));
        }
    }
    return b;
}

TEST(Plot, EveryPanelShowsEveryClassColourAndTheLegendHasThemAll) {
    test::TempDir dir;
    const size_t classes = 4;
    std::vector<Blobs> data;
    for (uint64_t s = 0; s < 4; ++s) data.push_back(make_blobs(classes, 150, s));
    std::vector<plot::ScatterPanel> panels;
    for (size_t i = 0; i < data.size(); ++i) {
        plot::ScatterPanel p;
        p.xy = data[i].xy.view();
        p.codes = data[i].codes;
        p.title = "panel " + std::to_string(i);
        p.note = "10-NN accuracy 1.000";
        panels.push_back(p);
    }
    std::vector<plot::LegendEntry> legend = {{"a", 150}, {"b", 150}, {"c", 150}, {"d", 150}};
    plot::FigureOptions o;
    o.title = "four panels";
    o.point_alpha = 1;  // exact colours, so pixels can be matched to the palette
    const auto path = dir.path() / "grid.png";
    plot::write_scatter_figure(path, panels, legend, o);

    Png png(path);
    ASSERT_TRUE(png.ok());
    const plot::FigureLayout layout = plot::layout_figure(panels.size(), legend.size(), o);
    EXPECT_EQ(png.width(), static_cast<int>(layout.width * o.png_scale + 0.5));
    EXPECT_EQ(png.height(), static_cast<int>(layout.height * o.png_scale + 0.5));
    ASSERT_EQ(layout.plot_areas.size(), 4u);
    for (size_t p = 0; p < layout.plot_areas.size(); ++p) {
        for (size_t c = 0; c < classes; ++c) {
            // 150 points of radius ~3.2 pt at 2x: hundreds of pixels each, even with overlap.
            EXPECT_GT(png.count_near(plot::class_colour(c), layout.plot_areas[p], o.png_scale, 2),
                      100)
                << "panel " << p << " class " << c;
        }
        // A colour not in the legend must not appear.
        EXPECT_EQ(png.count_near(plot::class_colour(5), layout.plot_areas[p], o.png_scale, 2), 0);
    }
    for (size_t c = 0; c < classes; ++c) {
        EXPECT_GT(png.count_near(plot::class_colour(c), layout.legend, o.png_scale, 2), 20);
    }
}

TEST(Plot, SameSeedSameBytesOtherSeedOtherOrder) {
    test::TempDir dir;
    Blobs b = make_blobs(2, 400, 7);
    // Overlap the two classes so draw order is visible.
    for (size_t r = 0; r < b.xy.rows(); ++r) b.xy(r, 0) = static_cast<float>(r % 37);
    plot::ScatterPanel p;
    p.xy = b.xy.view();
    p.codes = b.codes;
    std::vector<plot::LegendEntry> legend = {{"neg", 400}, {"pos", 400}};
    plot::FigureOptions o;
    const std::array<plot::ScatterPanel, 1> panels{p};
    plot::write_scatter_figure(dir.path() / "a.png", panels, legend, o);
    plot::write_scatter_figure(dir.path() / "b.png", panels, legend, o);
    o.seed = 1;
    plot::write_scatter_figure(dir.path() / "c.png", panels, legend, o);
    EXPECT_EQ(slurp(dir.path() / "a.png"), slurp(dir.path() / "b.png"));
    EXPECT_NE(slurp(dir.path() / "a.png"), slurp(dir.path() / "c.png"));
}

TEST(Plot, VectorFormatsEmbedManyPointsAsOneImageAndKeepTextVector) {
    test::TempDir dir;
    Blobs many = make_blobs(3, 2000, 1), few = make_blobs(3, 50, 2);
    std::vector<plot::ScatterPanel> panels(2);
    panels[0].xy = many.xy.view();
    panels[0].codes = many.codes;
    panels[0].title = "many";
    panels[1].xy = few.xy.view();
    panels[1].codes = few.codes;
    panels[1].title = "few";
    std::vector<plot::LegendEntry> legend = {{"x", 2050}, {"y", 2050}, {"z", 2050}};
    plot::write_scatter_figure(dir.path() / "f.svg", panels, legend);
    plot::write_scatter_figure(dir.path() / "f.pdf", panels, legend);
    const std::string svg = slurp(dir.path() / "f.svg");
    ASSERT_EQ(svg.rfind("<?xml", 0), 0u);
    EXPECT_NE(svg.find("<image"), std::string::npos);  // the 6,000-point panel became a raster
    EXPECT_EQ(svg.find("<image", svg.find("<image") + 1), std::string::npos);  // only that one
    EXPECT_LT(svg.size(), 2'000'000u);
    const std::string pdf = slurp(dir.path() / "f.pdf");
    EXPECT_EQ(pdf.rfind("%PDF-", 0), 0u);
    EXPECT_NE(pdf.find("%%EOF"), std::string::npos);
    // the same in the PDF: cairo writes the raster as an image XObject (with its alpha as a soft
    // mask); the 150-point panel stays vector
    EXPECT_NE(pdf.find("/Subtype /Image"), std::string::npos);
    EXPECT_EQ(count(pdf, "/Subtype /Image"), 2u) << "one image and its soft mask";
    EXPECT_NE(pdf.find("/SMask"), std::string::npos);
}

TEST(Plot, FigureTitleIsTheSvgAndPdfDocumentTitle) {
    test::TempDir dir;
    Blobs b = make_blobs(2, 20, 0);
    plot::ScatterPanel p;
    p.xy = b.xy.view();
    p.codes = b.codes;
    const std::array<plot::ScatterPanel, 1> panels{p};
    const std::vector<plot::LegendEntry> legend = {{"a", 20}, {"b", 20}};
    plot::FigureOptions o;
    o.title = "blobs <2> & more, model gpt2";
    plot::write_scatter_figure(dir.path() / "f.svg", panels, legend, o);
    plot::write_scatter_figure(dir.path() / "f.pdf", panels, legend, o);
    const std::string svg = slurp(dir.path() / "f.svg");
    const size_t root = svg.find("<svg ");
    ASSERT_NE(root, std::string::npos);
    EXPECT_EQ(svg.find("<title>blobs &lt;2&gt; &amp; more, model gpt2</title>"),
              svg.find('>', root) + 2)
        << svg.substr(0, 400);
    EXPECT_NE(slurp(dir.path() / "f.pdf").find("/Title (blobs <2> & more, model gpt2)"),
              std::string::npos);
    o.title.clear();  // no heading, no title element
    plot::write_scatter_figure(dir.path() / "g.svg", panels, legend, o);
    EXPECT_EQ(slurp(dir.path() / "g.svg").find("<title>"), std::string::npos);
}

TEST(Plot, BadInputIsNamed) {
    test::TempDir dir;
    Blobs b = make_blobs(2, 10, 0);
    plot::ScatterPanel p;
    p.xy = b.xy.view();
    p.codes = b.codes;
    p.title = "t";
    std::vector<plot::LegendEntry> one = {{"only", 20}};
    const std::array<plot::ScatterPanel, 1> panels{p};
    EXPECT_NE(test::error_of([&] {
                  plot::write_scatter_figure(dir.path() / "x.png", panels, one);
              }).find("point 10 has class 1, but the legend has 1 classes"),
              std::string::npos);
    std::vector<plot::LegendEntry> two = {{"a", 10}, {"b", 10}};
    EXPECT_NE(test::error_of([&] {
                  plot::write_scatter_figure(dir.path() / "x.gif", panels, two);
              }).find("unknown figure format '.gif'"),
              std::string::npos);
    b.xy(3, 1) = std::nanf("");
    EXPECT_NE(test::error_of([&] {
                  plot::write_scatter_figure(dir.path() / "x.png", panels, two);
              }).find("point 3 is not finite"),
              std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "x.png"));
}

TEST(Plot, NiceTicksAndLabels) {
    EXPECT_EQ(plot::nice_ticks({0, 10}), (std::vector<double>{0, 2, 4, 6, 8, 10}));
    EXPECT_EQ(plot::nice_ticks({-0.013, 0.041}),
              (std::vector<double>{-0.01, 0, 0.01, 0.02, 0.03, 0.04}));
    EXPECT_EQ(plot::tick_label(0.25, 0.05), "0.25");
    EXPECT_EQ(plot::tick_label(-3, 1), "-3");
    EXPECT_EQ(plot::tick_label(0, 0.1), "0");
}

TEST(Plot, HeatmapCellsAreShadedByShareOfTheirRow) {
    test::TempDir dir;
    plot::Heatmap h;
    h.counts = {{90, 10}, {5, 95}};
    h.row_names = {"0", "1"};
    h.col_names = {"neg", "pos"};
    h.title = "purity";
    const auto path = dir.path() / "h.png";
    plot::write_heatmap(path, h);
    Png png(path);
    ASSERT_TRUE(png.ok());
    // The darkest palette end appears (a 95% cell), and so does a pale cell (5%).
    const plot::Rect all{0, 0, png.width() / 2.0, png.height() / 2.0};
    EXPECT_GT(png.count_near(plot::sequential(0.95), all, 2, 2), 500);
    EXPECT_GT(png.count_near(plot::sequential(0.05), all, 2, 2), 500);
    h.col_names.pop_back();
    EXPECT_NE(test::error_of([&] { plot::write_heatmap(path, h); }).find("1 column names"),
              std::string::npos);
}

}  // namespace
}  // namespace promptlens
