#include "plot/heatmap.hpp"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "core/error.hpp"
#include "plot/canvas.hpp"

namespace promptlens::plot {
namespace {

// The title's advance at 12 pt bold, measured on a scratch surface (the figure's size depends on
// it, so it is known before the figure's own surface exists).
double title_width(const std::string& title) {
    cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
    cairo_t* cr = cairo_create(surface);
    const double w = text_width(cr, title, 12, true);
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
    return w;
}

}  // namespace

void write_heatmap(const std::filesystem::path& path, const Heatmap& h, double png_scale) {
    const size_t rows = h.counts.size();
    require(rows > 0, "heatmap '{}': no rows", h.title);
    const size_t cols = h.counts[0].size();
    require(cols > 0, "heatmap '{}': no columns", h.title);
    require(h.row_names.size() == rows && h.col_names.size() == cols,
            "heatmap '{}': {} x {} counts but {} row names and {} column names", h.title, rows,
            cols, h.row_names.size(), h.col_names.size());
    for (size_t r = 0; r < rows; ++r) {
        require(h.counts[r].size() == cols, "heatmap '{}': row {} has {} cells, expected {}",
                h.title, r, h.counts[r].size(), cols);
    }
    const double cell_h = 34, left = 96, top = 70, margin = 14;
    // Cells widen (up to 200 pt) until the title fits: with two labels an 84 pt cell left room for
    // ~30 characters and cut "KMeans K=8 · summary · hidden · scaled: majority …, matched …"
    // after "sc…".
    const double cell_w = std::clamp(
        (title_width(h.title) + 20 - left - margin) / static_cast<double>(cols), 84.0, 200.0);
    const double width = left + cell_w * static_cast<double>(cols) + margin;
    const double height = top + cell_h * static_cast<double>(rows) + margin;
    Canvas canvas(path, width, height, png_scale);
    cairo_t* cr = canvas.cr();
    const Rgb ink = from_hex(0x222222);

    canvas.set_title(h.title);
    set_colour(cr, ink);
    draw_text(cr, width / 2, 20, fit_text(cr, h.title, 12, width - 20, true), 12, Align::centre,
              true);
    draw_text(cr, left + cell_w * static_cast<double>(cols) / 2, 42, h.col_axis, 9.5, Align::centre,
              true);
    draw_text(cr, 10, top - 8, h.row_axis, 9.5, Align::left, true);
    for (size_t c = 0; c < cols; ++c) {
        draw_text(cr, left + cell_w * (static_cast<double>(c) + 0.5), top - 8,
                  fit_text(cr, h.col_names[c], 9, cell_w - 6), 9, Align::centre);
    }
    for (size_t r = 0; r < rows; ++r) {
        const double y = top + cell_h * static_cast<double>(r);
        set_colour(cr, ink);
        draw_text(cr, left - 8, y + cell_h / 2 + 3, fit_text(cr, h.row_names[r], 9, left - 16), 9,
                  Align::right);
        const int64_t total = std::accumulate(h.counts[r].begin(), h.counts[r].end(), int64_t{0});
        for (size_t c = 0; c < cols; ++c) {
            const double share =
                total > 0 ? static_cast<double>(h.counts[r][c]) / static_cast<double>(total) : 0.0;
            const double x = left + cell_w * static_cast<double>(c);
            set_colour(cr, sequential(share));
            cairo_rectangle(cr, x + 1, y + 1, cell_w - 2, cell_h - 2);
            cairo_fill(cr);
            set_colour(cr, share > 0.55 ? Rgb{1, 1, 1} : ink);
            draw_text(cr, x + cell_w / 2, y + cell_h / 2 - 1, fmt::format("{}", h.counts[r][c]),
                      9.5, Align::centre, true);
            draw_text(cr, x + cell_w / 2, y + cell_h / 2 + 10, fmt::format("{:.1f}%", 100 * share),
                      7.5, Align::centre);
        }
    }
    canvas.finish();
}

}  // namespace promptlens::plot
