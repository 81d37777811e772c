#include "plot/palette.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace promptlens::plot {
namespace {

constexpr std::array<uint32_t, 12> kColours = {
    0x0072B2,  // blue            (Okabe-Ito)
    0xE69F00,  // orange          (Okabe-Ito)
    0x009E73,  // bluish green    (Okabe-Ito)
    0xD55E00,  // vermillion      (Okabe-Ito)
    0xCC79A7,  // reddish purple  (Okabe-Ito)
    0x56B4E9,  // sky blue        (Okabe-Ito)
    0xF0E442,  // yellow          (Okabe-Ito)
    0x882255,  // wine            (Tol muted)
    0x44AA99,  // teal            (Tol muted)
    0x999933,  // olive           (Tol muted)
    0x332288,  // indigo          (Tol muted)
    0x888888,  // grey
};

}  // namespace

Rgb from_hex(uint32_t rgb) {
    return {((rgb >> 16) & 0xFF) / 255.0, ((rgb >> 8) & 0xFF) / 255.0, (rgb & 0xFF) / 255.0};
}

size_t palette_size() {
    return kColours.size();
}

Rgb class_colour(size_t index) {
    Rgb c = from_hex(kColours[index % kColours.size()]);
    // Each further cycle is 30% darker, so repeated colours are at least told apart by shade.
    const double shade = std::max(0.4, 1.0 - 0.3 * static_cast<double>(index / kColours.size()));
    return {c.r * shade, c.g * shade, c.b * shade};
}

std::string hex(const Rgb& c) {
    auto byte = [](double v) { return static_cast<int>(std::clamp(v, 0.0, 1.0) * 255.0 + 0.5); };
    return fmt::format("#{:02x}{:02x}{:02x}", byte(c.r), byte(c.g), byte(c.b));
}

Rgb sequential(double t) {
    t = std::clamp(t, 0.0, 1.0);
    const Rgb lo{0.97, 0.98, 1.0}, hi = from_hex(0x08306B);  // near-white to navy
    return {lo.r + (hi.r - lo.r) * t, lo.g + (hi.g - lo.g) * t, lo.b + (hi.b - lo.b) * t};
}

}  // namespace promptlens::plot
