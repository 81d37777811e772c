// Numeric matrices in CSV or TSV text: one row per line, the delimiter chosen by the extension
// (`.tsv`/`.tab` → tab, otherwise comma), an optional header line (taken as a header when its
// first field is not a number). Every row must have the same number of fields.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/matrix.hpp"

namespace promptlens {

struct DelimitedMatrix {
    Matrix values;
    std::vector<std::string> header;  // empty when the file has none
};

DelimitedMatrix read_delimited_matrix(const std::filesystem::path& path);

// Loads a feature matrix from `.npy`, `.csv` or `.tsv`, by extension.
Matrix read_matrix(const std::filesystem::path& path);

// Throws, naming the file, row and column, if any value is NaN or infinite.
void check_finite(ConstMatView m, const std::string& source);

}  // namespace promptlens
