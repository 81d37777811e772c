#include "core/delimited.hpp"

#include <charconv>
#include <cmath>
#include <fstream>

#include "core/error.hpp"
#include "core/npy.hpp"

namespace promptlens {
namespace fs = std::filesystem;

namespace {

std::vector<std::string_view> split(std::string_view line, char delim) {
    std::vector<std::string_view> out;
    size_t start = 0;
    while (true) {
        size_t end = line.find(delim, start);
        out.push_back(line.substr(start, end == std::string_view::npos ? end : end - start));
        if (end == std::string_view::npos) return out;
        start = end + 1;
    }
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '"')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '"' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

bool parse_float(std::string_view s, float& out) {
    s = trim(s);
    if (s.empty()) return false;
    if (s.front() == '+') s.remove_prefix(1);
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

DelimitedMatrix read_delimited_matrix(const fs::path& path) {
    std::ifstream in(path);
    require(in.good(), "{}: cannot open", path.string());
    const auto ext = path.extension().string();
    const char delim = (ext == ".tsv" || ext == ".tab") ? '\t' : ',';
    DelimitedMatrix result;
    std::vector<float> values;
    size_t cols = 0, rows = 0, line_no = 0;
    std::string line;
    while (std::getline(in, line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        auto fields = split(line, delim);
        float v = 0;
        if (rows == 0 && result.header.empty() && !parse_float(fields[0], v)) {
            for (auto f : fields) result.header.emplace_back(trim(f));
            cols = fields.size();
            continue;
        }
        if (cols == 0) cols = fields.size();
        require(fields.size() == cols, "{}: line {}: expected {} fields, found {}", path.string(),
                line_no, cols, fields.size());
        for (size_t j = 0; j < fields.size(); ++j) {
            if (!parse_float(fields[j], v)) {
                fail("{}: line {}, column {}: expected a number, got '{}'", path.string(), line_no,
                     j + 1, std::string(trim(fields[j])));
            }
            values.push_back(v);
        }
        ++rows;
    }
    require(rows > 0, "{}: no data rows", path.string());
    result.values = Matrix(rows, cols);
    std::copy(values.begin(), values.end(), result.values.data());
    return result;
}

Matrix read_matrix(const fs::path& path) {
    std::error_code ec;
    require(fs::exists(path, ec), "{}: no such file", path.string());
    const auto ext = path.extension().string();
    if (ext == ".csv" || ext == ".tsv" || ext == ".tab" || ext == ".txt") {
        return read_delimited_matrix(path).values;
    }
    if (ext != ".npy") {
        fail("{}: unknown matrix format '{}'; expected .npy, .csv or .tsv", path.string(), ext);
    }
    return read_npy_matrix(path);
}

void check_finite(ConstMatView m, const std::string& source) {
    for (size_t i = 0; i < m.rows(); ++i) {
        auto r = m.row(i);
        for (size_t j = 0; j < r.size(); ++j) {
            if (!std::isfinite(r[j])) {
                fail("{}: row {}, column {}: value is {}; features must be finite", source, i, j,
                     std::isnan(r[j]) ? "NaN" : "infinite");
            }
        }
    }
}

}  // namespace promptlens
