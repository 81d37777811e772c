// Axes for a data rectangle: a frame, "nice" tick positions (1, 2, 5 × 10^k steps, about five per
// axis) with labels, and the two axis names. Shared by the scatter plots and any later chart.
#pragma once

#include <cairo.h>

#include <string>
#include <vector>

#include "plot/scatter.hpp"

namespace promptlens::plot {

struct Range {
    double lo = 0, hi = 1;
};

// Tick values inside [lo, hi], about `target` of them, on a 1-2-5 step.
std::vector<double> nice_ticks(Range r, int target = 5);
// A tick label without trailing zeros or "-0": 0.25, 10, -3, 1e+05.
std::string tick_label(double value, double step);

// Frame, ticks, tick labels and axis names around `area` (points), mapping x in `xr` to
// area.x … area.x+area.w and y in `yr` to bottom … top.
void draw_axes(cairo_t* cr, const Rect& area, Range xr, Range yr, const std::string& x_label,
               const std::string& y_label);

}  // namespace promptlens::plot
