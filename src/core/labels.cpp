#include "core/labels.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>

#include "core/error.hpp"

namespace promptlens {

std::vector<size_t> Labels::counts() const {
    std::vector<size_t> c(classes.size(), 0);
    for (int32_t code : codes) ++c[static_cast<size_t>(code)];
    return c;
}

namespace {
bool as_integer(const std::string& s, long long& out) {
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && ptr == s.data() + s.size();
}
}  // namespace

Labels make_labels(const std::vector<std::string>& per_row) {
    Labels labels;
    std::vector<std::string> unique = per_row;
    std::sort(unique.begin(), unique.end());
    unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
    long long a = 0, b = 0;
    bool numeric = std::all_of(unique.begin(), unique.end(),
                               [&](const std::string& s) { return as_integer(s, a); });
    if (numeric) {
        std::sort(unique.begin(), unique.end(), [&](const std::string& x, const std::string& y) {
            as_integer(x, a);
            as_integer(y, b);
            return a < b;
        });
    }
    std::map<std::string, int32_t> index;
    for (size_t i = 0; i < unique.size(); ++i) index[unique[i]] = static_cast<int32_t>(i);
    labels.classes = std::move(unique);
    labels.codes.reserve(per_row.size());
    for (const auto& s : per_row) labels.codes.push_back(index.at(s));
    return labels;
}

Labels make_labels(const std::vector<int32_t>& per_row) {
    std::vector<std::string> s;
    s.reserve(per_row.size());
    for (int32_t v : per_row) s.push_back(std::to_string(v));
    return make_labels(s);
}

Labels read_labels(const std::filesystem::path& path) {
    std::error_code ec;
    require(std::filesystem::exists(path, ec), "{}: no such file", path.string());
    std::ifstream in(path);
    require(in.good(), "{}: cannot open", path.string());
    std::vector<std::string> rows;
    std::string line;
    size_t line_no = 0;
    size_t first_empty = 0;
    while (std::getline(in, line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) {
            if (first_empty == 0) first_empty = line_no;
            continue;
        }
        require(first_empty == 0, "{}: line {} is empty; expected one label per line",
                path.string(), first_empty);
        rows.push_back(line);
    }
    require(!rows.empty(), "{}: empty file; expected one label per line", path.string());
    return make_labels(rows);
}

void check_label_count(const Labels& labels, size_t rows, const std::string& labels_source,
                       const std::string& features_source) {
    require(labels.size() == rows,
            "{} has {} labels but {} has {} rows; expected one label per "
            "row",
            labels_source, labels.size(), features_source, rows);
}

}  // namespace promptlens
