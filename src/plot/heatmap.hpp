// A cluster × label heatmap: the seed's KMeans purity table as a picture. Each cell shows its
// count and its share of the row (cluster); colour encodes that share on a white → navy ramp, so
// a pure cluster is one dark cell in its row. Written as PNG, SVG or PDF like the scatter figures.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace promptlens::plot {

struct Heatmap {
    std::vector<std::vector<int64_t>> counts;  // rows × cols
    std::vector<std::string> row_names, col_names;
    std::string title;
    std::string row_axis = "cluster", col_axis = "label";
};

void write_heatmap(const std::filesystem::path& path, const Heatmap& heatmap, double png_scale = 2);

}  // namespace promptlens::plot
