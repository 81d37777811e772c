#include "plot/axes.hpp"

#include <cmath>

#include <fmt/format.h>

#include "plot/canvas.hpp"

namespace promptlens::plot {

std::vector<double> nice_ticks(Range r, int target) {
    const double span = r.hi - r.lo;
    if (!(span > 0) || !std::isfinite(span)) return {r.lo};
    const double raw = span / std::max(target, 1);
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / mag;
    const double step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
    std::vector<double> ticks;
    for (double t = std::ceil(r.lo / step) * step; t <= r.hi + step * 1e-9; t += step) {
        ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
    }
    return ticks;
}

std::string tick_label(double value, double step) {
    if (value == 0) return "0";
    const double a = std::abs(value);
    if (a >= 1e5 || a < 1e-3) return fmt::format("{:.1e}", value);
    const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
    return fmt::format("{:.{}f}", value, decimals);
}

void draw_axes(cairo_t* cr, const Rect& a, Range xr, Range yr, const std::string& x_label,
               const std::string& y_label) {
    const Rgb frame = from_hex(0x888888), ink = from_hex(0x333333), grid = from_hex(0xEEEEEE);
    const double fs = 8;
    auto map_x = [&](double v) { return a.x + (v - xr.lo) / (xr.hi - xr.lo) * a.w; };
    auto map_y = [&](double v) { return a.y + a.h - (v - yr.lo) / (yr.hi - yr.lo) * a.h; };
    const auto xt = nice_ticks(xr), yt = nice_ticks(yr);
    const double xs = xt.size() > 1 ? xt[1] - xt[0] : 1, ys = yt.size() > 1 ? yt[1] - yt[0] : 1;

    cairo_set_line_width(cr, 0.6);
    set_colour(cr, grid);
    for (double t : xt) {
        cairo_move_to(cr, map_x(t), a.y);
        cairo_line_to(cr, map_x(t), a.y + a.h);
    }
    for (double t : yt) {
        cairo_move_to(cr, a.x, map_y(t));
        cairo_line_to(cr, a.x + a.w, map_y(t));
    }
    cairo_stroke(cr);

    set_colour(cr, frame);
    cairo_set_line_width(cr, 0.8);
    cairo_rectangle(cr, a.x, a.y, a.w, a.h);
    for (double t : xt) {
        cairo_move_to(cr, map_x(t), a.y + a.h);
        cairo_line_to(cr, map_x(t), a.y + a.h + 3);
    }
    for (double t : yt) {
        cairo_move_to(cr, a.x - 3, map_y(t));
        cairo_line_to(cr, a.x, map_y(t));
    }
    cairo_stroke(cr);

    set_colour(cr, ink);
    for (double t : xt)
        draw_text(cr, map_x(t), a.y + a.h + 12, tick_label(t, xs), fs, Align::centre);
    for (double t : yt) draw_text(cr, a.x - 5, map_y(t) + 3, tick_label(t, ys), fs, Align::right);
    draw_text(cr, a.x + a.w / 2, a.y + a.h + 27, fit_text(cr, x_label, 9, a.w), 9, Align::centre);
    cairo_save(cr);
    cairo_translate(cr, a.x - 40, a.y + a.h / 2);
    cairo_rotate(cr, -M_PI / 2);
    draw_text(cr, 0, 0, fit_text(cr, y_label, 9, a.h), 9, Align::centre);
    cairo_restore(cr);
}

}  // namespace promptlens::plot
