// Static scatter-plot figures with Cairo: one panel or a small-multiples grid of 2-D embeddings
// coloured by class, one shared legend, written as PNG (at 2× for sharp screens), SVG or PDF (the
// format follows the file extension). The seed notebook's matplotlib calls, made consistent:
//  * one class → colour map for every panel (plot/palette.hpp), legend with per-class counts;
//  * point radius and opacity chosen from N, so 300 points and 25,000 points both read well;
//  * points drawn in an order shuffled with a seed, so no class systematically hides another,
//    and the same seed gives byte-identical files;
//  * each panel has a title (e.g. method / prompt / output / scaling), a subtitle (its parameters),
//    axis names (e.g. "PC1 (12.3%)") and a corner note for its separation metric; the figure's
//    heading (a study's names its model) is also the SVG/PDF document title;
//  * in SVG and PDF the text, axes and legend stay vector while many points (above
//    `raster_points_above`) become one embedded raster layer per panel, so files stay small.
// Files are written under a temporary name and renamed when complete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/matrix.hpp"

namespace promptlens::plot {

struct ScatterPanel {
    ConstMatView xy;                 // N×2 (extra columns are ignored); must outlive the call
    std::span<const int32_t> codes;  // N class indices into the figure's legend
    std::string title;               // first line above the panel
    std::string subtitle;            // second, smaller line (parameters)
    std::string x_label = "x", y_label = "y";
    std::string note;  // corner note, e.g. "10-NN acc 0.87 · trust 0.91"
};

struct LegendEntry {
    std::string name;
    size_t count = 0;
};

struct FigureOptions {
    std::string title;                  // above the grid; empty for none
    size_t columns = 0;                 // 0: as square as possible
    double panel_width = 380;           // points (1/72 inch); PNG pixels at scale 1
    double panel_height = 340;          // including the panel's title and axes
    double png_scale = 2;               // PNG pixels per point
    uint64_t seed = 0;                  // draw order
    size_t raster_points_above = 4000;  // SVG/PDF: points become an image above this count
    double point_radius = 0;            // 0: chosen from N (see point_style)
    double point_alpha = 0;             // 0: chosen from N
};

// Radius (points) and opacity for a panel of n points.
struct PointStyle {
    double radius, alpha;
};
PointStyle point_style(size_t n);

// Where things are on the page, in points: used by the renderer and by tests that read pixels.
struct Rect {
    double x = 0, y = 0, w = 0, h = 0;
};
struct FigureLayout {
    double width = 0, height = 0;
    std::vector<Rect> plot_areas;  // one per panel: the data region inside the axes
    Rect legend;
};
FigureLayout layout_figure(size_t panels, size_t legend_entries, const FigureOptions& options);

// Renders the panels in a grid (row-major) with one legend for all. Every panel's codes must be
// < legend.size(). Format from the extension: .png, .svg or .pdf.
void write_scatter_figure(const std::filesystem::path& path, std::span<const ScatterPanel> panels,
                          std::span<const LegendEntry> legend, const FigureOptions& options = {});

}  // namespace promptlens::plot
