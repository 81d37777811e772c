#include "plot/scatter.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "plot/axes.hpp"
#include "plot/canvas.hpp"

namespace promptlens::plot {
namespace {

constexpr double kMargin = 12;
constexpr double kTitleHeight = 30;
constexpr double kLegendWidth = 180;
constexpr double kLegendRow = 18;

struct Bounds {
    double x0, x1, y0, y1;
};

Bounds data_bounds(const ScatterPanel& p) {
    double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
    for (size_t i = 0; i < p.xy.rows(); ++i) {
        const double x = p.xy(i, 0), y = p.xy(i, 1);
        x0 = std::min(x0, x), x1 = std::max(x1, x);
        y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
    if (p.xy.rows() == 0) return {-1, 1, -1, 1};
    auto pad = [](double& lo, double& hi) {
        const double span = hi - lo;
        const double m = span > 0 ? 0.04 * span : std::max(1.0, std::abs(lo) * 0.1);
        lo -= m, hi += m;
    };
    pad(x0, x1);
    pad(y0, y1);
    return {x0, x1, y0, y1};
}

void check_panel(const ScatterPanel& p, size_t index, size_t classes) {
    require(p.xy.cols() >= 2, "scatter panel {} ('{}'): needs 2 columns, got {}", index + 1,
            p.title, p.xy.cols());
    require(p.codes.size() == p.xy.rows(),
            "scatter panel {} ('{}'): {} points but {} labels; expected one label per point",
            index + 1, p.title, p.xy.rows(), p.codes.size());
    for (size_t i = 0; i < p.xy.rows(); ++i) {
        require(std::isfinite(p.xy(i, 0)) && std::isfinite(p.xy(i, 1)),
                "scatter panel {} ('{}'): point {} is not finite ({}, {})", index + 1, p.title, i,
                p.xy(i, 0), p.xy(i, 1));
        require(p.codes[i] >= 0 && static_cast<size_t>(p.codes[i]) < classes,
                "scatter panel {} ('{}'): point {} has class {}, but the legend has {} classes",
                index + 1, p.title, i, p.codes[i], classes);
    }
}

// Draws the points of one panel in a seeded shuffled order, mapped from data bounds to `area`
// (in the current user space, whose origin may be shifted by the caller).
void draw_points(cairo_t* cr, const ScatterPanel& p, const Bounds& b, const Rect& area,
                 const PointStyle& style, uint64_t seed) {
    const size_t n = p.xy.rows();
    std::vector<uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    Rng rng(seed, 0x5CA77E4);
    for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    const double sx = area.w / (b.x1 - b.x0), sy = area.h / (b.y1 - b.y0);
    for (uint32_t i : order) {
        const double x = area.x + (p.xy(i, 0) - b.x0) * sx;
        const double y = area.y + area.h - (p.xy(i, 1) - b.y0) * sy;
        set_colour(cr, class_colour(static_cast<size_t>(p.codes[i])), style.alpha);
        cairo_new_sub_path(cr);
        cairo_arc(cr, x, y, style.radius, 0, 2 * M_PI);
        cairo_fill(cr);
    }
}

void draw_panel(Canvas& canvas, const ScatterPanel& p, const Rect& area, double panel_x,
                double panel_y, double panel_w, const FigureOptions& o, size_t index) {
    cairo_t* cr = canvas.cr();
    const Bounds b = data_bounds(p);
    const auto ink = from_hex(0x222222);

    set_colour(cr, ink);
    draw_text(cr, panel_x + panel_w / 2, panel_y + 16,
              fit_text(cr, p.title, 11, panel_w - 16, true), 11, Align::centre, true);
    set_colour(cr, from_hex(0x555555));
    draw_text(cr, panel_x + panel_w / 2, panel_y + 30, fit_text(cr, p.subtitle, 8.5, panel_w - 16),
              8.5, Align::centre);

    draw_axes(cr, area, {b.x0, b.x1}, {b.y0, b.y1}, p.x_label, p.y_label);

    PointStyle style = point_style(p.xy.rows());
    if (o.point_radius > 0) style.radius = o.point_radius;
    if (o.point_alpha > 0) style.alpha = o.point_alpha;
    const uint64_t seed = o.seed + 0x9E3779B97F4A7C15ULL * index;
    cairo_save(cr);
    cairo_rectangle(cr, area.x, area.y, area.w, area.h);
    cairo_clip(cr);
    const bool raster = canvas.format() != FileFormat::png && p.xy.rows() > o.raster_points_above;
    if (!raster) {
        draw_points(cr, p, b, area, style, seed);
    } else {
        // Many points in a vector file: one embedded image per panel (at the PNG resolution),
        // while text, axes and legend stay vector.
        const double s = o.png_scale;
        cairo_surface_t* img =
            cairo_image_surface_create(CAIRO_FORMAT_ARGB32, static_cast<int>(std::ceil(area.w * s)),
                                       static_cast<int>(std::ceil(area.h * s)));
        cairo_t* icr = cairo_create(img);
        cairo_scale(icr, s, s);
        draw_points(icr, p, b, Rect{0, 0, area.w, area.h}, style, seed);
        cairo_destroy(icr);
        cairo_translate(cr, area.x, area.y);
        cairo_scale(cr, 1 / s, 1 / s);
        cairo_set_source_surface(cr, img, 0, 0);
        cairo_paint(cr);
        cairo_surface_destroy(img);
    }
    cairo_restore(cr);

    if (!p.note.empty()) {
        const std::string note = fit_text(cr, p.note, 8.5, area.w - 12);
        const double w = text_width(cr, note, 8.5);
        cairo_rectangle(cr, area.x + 3, area.y + 3, w + 8, 15);
        set_colour(cr, Rgb{1, 1, 1}, 0.85);
        cairo_fill(cr);
        set_colour(cr, ink);
        draw_text(cr, area.x + 7, area.y + 14, note, 8.5);
    }
}

void draw_legend(cairo_t* cr, const Rect& r, std::span<const LegendEntry> legend) {
    set_colour(cr, from_hex(0x222222));
    draw_text(cr, r.x, r.y + 10, "label (count)", 9.5, Align::left, true);
    for (size_t i = 0; i < legend.size(); ++i) {
        const double y = r.y + 18 + kLegendRow * static_cast<double>(i) + kLegendRow / 2;
        set_colour(cr, class_colour(i));
        cairo_new_sub_path(cr);
        cairo_arc(cr, r.x + 6, y, 5, 0, 2 * M_PI);
        cairo_fill(cr);
        set_colour(cr, from_hex(0x222222));
        const std::string text =
            fit_text(cr, fmt::format("{} ({})", legend[i].name, legend[i].count), 9, r.w - 18);
        draw_text(cr, r.x + 16, y + 3.5, text, 9);
    }
}

}  // namespace

PointStyle point_style(size_t n) {
    // Area per point shrinks with N until points would vanish; opacity drops once they overlap.
    const double nn = static_cast<double>(std::max<size_t>(n, 1));
    const double radius = std::clamp(3.2 / std::sqrt(nn / 500.0), 0.7, 3.2);
    const double alpha = std::clamp(1.0 / std::sqrt(nn / 2000.0), 0.3, 0.9);
    return {radius, alpha};
}

FigureLayout layout_figure(size_t panels, size_t legend_entries, const FigureOptions& o) {
    require(panels > 0, "figure: no panels to draw");
    require(o.panel_width >= 120 && o.panel_height >= 120,
            "figure: panels of {} x {} points are too small (at least 120 x 120)", o.panel_width,
            o.panel_height);
    const size_t columns =
        o.columns > 0 ? std::min(o.columns, panels)
                      : static_cast<size_t>(std::ceil(std::sqrt(static_cast<double>(panels))));
    const size_t rows = (panels + columns - 1) / columns;
    const double top = kMargin + (o.title.empty() ? 0 : kTitleHeight);
    FigureLayout l;
    const double legend_h = 24 + kLegendRow * static_cast<double>(legend_entries);
    l.width = 2 * kMargin + static_cast<double>(columns) * o.panel_width + kLegendWidth;
    l.height =
        std::max(top + static_cast<double>(rows) * o.panel_height, top + 38 + legend_h) + kMargin;
    for (size_t i = 0; i < panels; ++i) {
        const double px = kMargin + static_cast<double>(i % columns) * o.panel_width;
        const double py = top + static_cast<double>(i / columns) * o.panel_height;
        l.plot_areas.push_back(
            {px + 52, py + 40, o.panel_width - 52 - 14, o.panel_height - 40 - 42});
    }
    l.legend = {kMargin + static_cast<double>(columns) * o.panel_width + 10, top + 40,
                kLegendWidth - 20, legend_h};
    return l;
}

void write_scatter_figure(const std::filesystem::path& path, std::span<const ScatterPanel> panels,
                          std::span<const LegendEntry> legend, const FigureOptions& o) {
    for (size_t i = 0; i < panels.size(); ++i) check_panel(panels[i], i, legend.size());
    const FigureLayout l = layout_figure(panels.size(), legend.size(), o);
    Canvas canvas(path, l.width, l.height, o.png_scale);
    cairo_t* cr = canvas.cr();
    if (!o.title.empty()) {
        canvas.set_title(o.title);
        set_colour(cr, from_hex(0x111111));
        draw_text(cr, l.width / 2, kMargin + 18, fit_text(cr, o.title, 14, l.width - 24, true), 14,
                  Align::centre, true);
    }
    for (size_t i = 0; i < panels.size(); ++i) {
        const Rect& a = l.plot_areas[i];
        draw_panel(canvas, panels[i], a, a.x - 52, a.y - 40, o.panel_width, o, i);
    }
    draw_legend(cr, l.legend, legend);
    canvas.finish();
}

}  // namespace promptlens::plot
