// A Cairo drawing surface bound to an output file: PNG (an image at `png_scale` pixels per point),
// SVG or PDF (vector), chosen by the file's extension. Drawing happens in points whatever the
// format; `finish()` writes the file under a temporary name and renames it, so a failed or
// interrupted render never leaves a half figure behind. Also the few text helpers every figure
// needs (Cairo's toy text API with DejaVu Sans, which install-deps.sh provides).
#pragma once

#include <cairo.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "plot/palette.hpp"

namespace promptlens::plot {

enum class FileFormat { png, svg, pdf };
// From the extension (.png, .svg, .pdf, case-insensitive); anything else is an error naming it.
FileFormat format_of(const std::filesystem::path& path);

class Canvas {
  public:
    Canvas(const std::filesystem::path& path, double width, double height, double png_scale);
    ~Canvas();
    Canvas(const Canvas&) = delete;
    Canvas& operator=(const Canvas&) = delete;

    cairo_t* cr() { return cr_; }
    FileFormat format() const { return format_; }
    double png_scale() const { return png_scale_; }
    // The figure's title as document metadata, beside the drawn heading: an SVG <title> element
    // (what viewers and screen readers show), the PDF's Title; PNG has none.
    void set_title(std::string_view title);
    // Flushes the drawing and writes the file atomically. Call once, after drawing.
    void finish();

  private:
    std::filesystem::path path_;
    FileFormat format_;
    double png_scale_;
    std::string bytes_;  // SVG/PDF stream output, written to the file by finish()
    std::string svg_title_;
    cairo_surface_t* surface_ = nullptr;
    cairo_t* cr_ = nullptr;
};

enum class Align { left, centre, right };

void set_colour(cairo_t* cr, const Rgb& c, double alpha = 1.0);
// Draws text with its baseline at y; returns its advance width.
double draw_text(cairo_t* cr, double x, double y, std::string_view text, double size,
                 Align align = Align::left, bool bold = false);
double text_width(cairo_t* cr, std::string_view text, double size, bool bold = false);
// Shortens text with "…" until it fits in max_width.
std::string fit_text(cairo_t* cr, std::string_view text, double size, double max_width,
                     bool bold = false);

}  // namespace promptlens::plot
