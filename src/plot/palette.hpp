// Colours for labels and clusters. One fixed class → colour map is used by every panel of a figure
// (class i always gets colour i), so "pos" is the same colour in the PCA panel and the UMAP panel.
// The first seven colours are Okabe & Ito's colour-blind-safe set (without its black, which reads
// as "missing" on a scatter plot), ordered so that two classes get blue and orange, the pair that
// stays distinct under every common colour-vision deficiency; colours 8–12 extend it with Paul
// Tol's muted scheme. Past 12 classes the colours repeat with a darker shade per cycle, which
// keeps them valid but no longer colour-blind safe (said in the figure's legend by the caller).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace promptlens::plot {

struct Rgb {
    double r = 0, g = 0, b = 0;  // 0…1
};

// Colour of class `index` (0-based).
Rgb class_colour(size_t index);
// Number of distinct colours before the palette repeats.
size_t palette_size();
// "#rrggbb", for the HTML report and tests.
std::string hex(const Rgb& c);
Rgb from_hex(uint32_t rgb);

// Sequential white → dark blue ramp for heatmaps; t in [0, 1].
Rgb sequential(double t);

}  // namespace promptlens::plot
