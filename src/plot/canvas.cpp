#include "plot/canvas.hpp"

#include <cairo-pdf.h>
#include <cairo-svg.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace promptlens::plot {
namespace {

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
    static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
    return CAIRO_STATUS_SUCCESS;
}

void select_font(cairo_t* cr, double size, bool bold) {
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

// Text for XML character data: &, < and > escaped (as report_html's html_escape; plot sits below
// report, so it keeps its own three cases).
std::string xml_text(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

}  // namespace

FileFormat format_of(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".png") return FileFormat::png;
    if (ext == ".svg") return FileFormat::svg;
    if (ext == ".pdf") return FileFormat::pdf;
    fail("{}: unknown figure format '{}'; expected .png, .svg or .pdf", path.string(), ext);
}

Canvas::Canvas(const std::filesystem::path& path, double width, double height, double png_scale)
    : path_(path), format_(format_of(path)), png_scale_(png_scale) {
    require(width > 0 && height > 0 && png_scale > 0, "{}: figure size {} x {} is empty",
            path.string(), width, height);
    switch (format_) {
        case FileFormat::png:
            surface_ = cairo_image_surface_create(CAIRO_FORMAT_ARGB32,
                                                  static_cast<int>(width * png_scale + 0.5),
                                                  static_cast<int>(height * png_scale + 0.5));
            break;
        case FileFormat::svg:
            surface_ = cairo_svg_surface_create_for_stream(append_bytes, &bytes_, width, height);
            break;
        case FileFormat::pdf:
            surface_ = cairo_pdf_surface_create_for_stream(append_bytes, &bytes_, width, height);
            break;
    }
    if (cairo_surface_status(surface_) != CAIRO_STATUS_SUCCESS) {
        const char* why = cairo_status_to_string(cairo_surface_status(surface_));
        cairo_surface_destroy(surface_);
        fail("{}: cannot create a {:.0f} x {:.0f} figure: {}", path.string(), width, height, why);
    }
    cr_ = cairo_create(surface_);
    if (format_ == FileFormat::png) cairo_scale(cr_, png_scale, png_scale);
    // A white page: transparent PNGs look broken in dark viewers.
    cairo_set_source_rgb(cr_, 1, 1, 1);
    cairo_paint(cr_);
}

Canvas::~Canvas() {
    if (cr_) cairo_destroy(cr_);
    if (surface_) cairo_surface_destroy(surface_);
}

void Canvas::set_title(std::string_view title) {
    if (format_ == FileFormat::pdf) {
        const std::string t(title);
        cairo_pdf_surface_set_metadata(surface_, CAIRO_PDF_METADATA_TITLE, t.c_str());
    } else if (format_ == FileFormat::svg) {
        svg_title_ = xml_text(title);
    }
}

void Canvas::finish() {
    cairo_surface_flush(surface_);
    if (format_ == FileFormat::png) {
        std::string png;
        const cairo_status_t status =
            cairo_surface_write_to_png_stream(surface_, append_bytes, &png);
        require(status == CAIRO_STATUS_SUCCESS, "{}: cannot encode PNG: {}", path_.string(),
                cairo_status_to_string(status));
        write_text_file(path_, png);
        return;
    }
    cairo_destroy(cr_);
    cr_ = nullptr;
    cairo_surface_finish(surface_);  // flushes the SVG/PDF trailer into bytes_
    require(cairo_surface_status(surface_) == CAIRO_STATUS_SUCCESS, "{}: cannot render: {}",
            path_.string(), cairo_status_to_string(cairo_surface_status(surface_)));
    if (!svg_title_.empty()) {
        // Cairo has no SVG title API: the element goes first inside the <svg ...> root.
        const size_t root = bytes_.find("<svg");
        const size_t end = root == std::string::npos ? root : bytes_.find('>', root);
        require(end != std::string::npos, "{}: cairo wrote no <svg> root", path_.string());
        bytes_.insert(end + 1, "\n<title>" + svg_title_ + "</title>");
    }
    write_text_file(path_, bytes_);
}

void set_colour(cairo_t* cr, const Rgb& c, double alpha) {
    cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha);
}

double text_width(cairo_t* cr, std::string_view text, double size, bool bold) {
    select_font(cr, size, bold);
    cairo_text_extents_t e;
    const std::string s(text);
    cairo_text_extents(cr, s.c_str(), &e);
    return e.x_advance;
}

double draw_text(cairo_t* cr, double x, double y, std::string_view text, double size, Align align,
                 bool bold) {
    const double w = text_width(cr, text, size, bold);
    const double x0 = align == Align::left ? x : align == Align::centre ? x - w / 2 : x - w;
    const std::string s(text);
    cairo_move_to(cr, x0, y);
    cairo_show_text(cr, s.c_str());
    return w;
}

std::string fit_text(cairo_t* cr, std::string_view text, double size, double max_width, bool bold) {
    std::string s(text);
    if (text_width(cr, s, size, bold) <= max_width) return s;
    while (!s.empty()) {
        // Drop one UTF-8 character from the end: continuation bytes, then the byte that starts it.
        while (!s.empty()) {
            const auto c = static_cast<unsigned char>(s.back());
            s.pop_back();
            if ((c & 0xC0) != 0x80) break;
        }
        if (text_width(cr, s + "…", size, bold) <= max_width) return s + "…";
    }
    return "…";
}

}  // namespace promptlens::plot
