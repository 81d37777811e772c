#include "extract/json_dataset.hpp"

#include <nlohmann/json.hpp>

#include <fstream>

#include "core/error.hpp"

namespace promptlens {
namespace {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    require(in.good(), "{}: cannot open it", path.string());
    std::string s{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    require(!in.bad(), "{}: read failed", path.string());
    return s;
}

TextRow row_of(const nlohmann::json& j, const JsonDatasetOptions& o, const std::string& where,
               const std::string& source) {
    require(j.is_object(), "{}: expected a JSON object, got {}", where, j.type_name());
    auto t = j.find(o.text_field);
    require(t != j.end() && t->is_string(),
            "{}: expected a string \"{}\" field (choose the field with --text-column)", where,
            o.text_field);
    TextRow row{t->get<std::string>(), "", source};
    check_no_nul(row.text, where);
    if (!o.label_field.empty()) {
        auto l = j.find(o.label_field);
        require(l != j.end(), "{}: no \"{}\" field (choose the label field with --label-column)",
                where, o.label_field);
        if (l->is_string()) {
            row.label = l->get<std::string>();
        } else {
            require(l->is_number_integer() || l->is_boolean(),
                    "{}: the \"{}\" field is a {}; a label must be a string, an integer or a "
                    "boolean",
                    where, o.label_field, l->type_name());
            row.label = l->dump();
        }
        require(!row.label.empty(), "{}: empty label", where);
    }
    return row;
}

}  // namespace

TextDataset read_jsonl_dataset(const std::filesystem::path& path, const JsonDatasetOptions& o) {
    const std::string name = path.string(), file = path.filename().string();
    const std::string s = read_file(path);
    TextDataset ds;
    ds.format = "jsonl";
    ds.has_labels = !o.label_field.empty();
    size_t pos = 0;
    for (size_t line_no = 1; pos < s.size(); ++line_no) {
        size_t end = s.find('\n', pos);
        if (end == std::string::npos) end = s.size();
        std::string line = s.substr(pos, end - pos);
        pos = end + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        const std::string where = fmt::format("{} line {}", name, line_no);
        line = text::check_utf8(line, o.invalid_utf8, where);
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(line);
        } catch (const nlohmann::json::parse_error& e) {
            fail("{}: not valid JSON ({})", where, e.what());
        }
        ds.rows.push_back(row_of(j, o, where, fmt::format("{}:{}", file, line_no)));
    }
    require(!ds.rows.empty(), "{}: no JSON lines in it", name);
    return ds;
}

TextDataset read_json_array_dataset(const std::filesystem::path& path,
                                    const JsonDatasetOptions& o) {
    const std::string name = path.string(), file = path.filename().string();
    const std::string s = text::check_utf8(read_file(path), o.invalid_utf8, name);
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(s);
    } catch (const nlohmann::json::parse_error& e) {
        fail("{}: not valid JSON ({})", name, e.what());
    }
    require(j.is_array(), "{}: expected a JSON array of objects, got a JSON {}", name,
            j.type_name());
    require(!j.empty(), "{}: the array is empty", name);
    TextDataset ds;
    ds.format = "json";
    ds.has_labels = !o.label_field.empty();
    for (size_t i = 0; i < j.size(); ++i) {
        ds.rows.push_back(
            row_of(j[i], o, fmt::format("{} element {}", name, i), fmt::format("{}[{}]", file, i)));
    }
    return ds;
}

}  // namespace promptlens
