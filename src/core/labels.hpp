// Class labels: any strings, one per row. Classes are numbered in sorted order (numerically when
// every label is an integer, else lexicographically), as scikit-learn and pandas order them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace promptlens {

struct Labels {
    std::vector<std::string> classes;  // class names, sorted; codes index into this
    std::vector<int32_t> codes;        // one per row, in [0, classes.size())

    size_t size() const { return codes.size(); }
    size_t n_classes() const { return classes.size(); }
    std::vector<size_t> counts() const;
};

Labels make_labels(const std::vector<std::string>& per_row);
// Integer codes, e.g. cluster ids; class names are their decimal strings.
Labels make_labels(const std::vector<int32_t>& per_row);

// A text file with one label per line (a final newline is optional; '\r' is stripped). An empty
// line is an error naming its line number.
Labels read_labels(const std::filesystem::path& path);

// Throws unless the label count equals the number of rows of the named features.
void check_label_count(const Labels& labels, size_t rows, const std::string& labels_source,
                       const std::string& features_source);

}  // namespace promptlens
