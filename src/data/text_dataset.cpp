#include "data/text_dataset.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "core/error.hpp"
#include "data/tar_reader.hpp"

namespace promptlens {
namespace fs = std::filesystem;

std::string universal_newlines(std::string text) {
    if (text.find('\r') == std::string::npos) return text;
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r') {
            out.push_back('\n');
            if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

void check_no_nul(const std::string& text, const std::string& source) {
    const size_t at = text.find('\0');
    require(at == std::string::npos, "{}: not a text file (NUL byte at offset {})", source, at);
}

std::vector<std::pair<std::string, std::string>> parse_name_pairs(const std::string& spec,
                                                                  const std::string& what) {
    std::vector<std::pair<std::string, std::string>> out;
    size_t pos = 0;
    while (pos <= spec.size()) {
        size_t end = spec.find(',', pos);
        if (end == std::string::npos) end = spec.size();
        const std::string item = spec.substr(pos, end - pos);
        const size_t eq = item.find('=');
        std::string key = item.substr(0, eq),
                    value = eq == std::string::npos ? key : item.substr(eq + 1);
        require(!key.empty() && !value.empty(),
                "{}: '{}' is not NAME=VALUE (item {} of '{}' is empty on one side)", what, item,
                out.size() + 1, spec);
        out.emplace_back(std::move(key), std::move(value));
        pos = end + 1;
    }
    return out;
}

namespace {

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    require(in.good(), "{}: cannot open it", path.string());
    std::string s{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    require(!in.bad(), "{}: read failed", path.string());
    return s;
}

bool has_extension(const std::string& name, const std::string& ext) {
    return ext.empty() || (name.size() >= ext.size() &&
                           name.compare(name.size() - ext.size(), ext.size(), ext) == 0);
}

// Resolves the label folders from what is present (`present`: folder names, any order).
std::vector<std::pair<std::string, std::string>> choose_folders(
    const std::set<std::string>& present, const FolderDatasetOptions& o, const std::string& where) {
    if (!o.folders.empty()) {
        for (const auto& [folder, label] : o.folders) {
            require(present.count(folder) > 0, "{}: no label folder '{}' (found: {})", where,
                    folder, fmt::join(present, ", "));
        }
        return o.folders;
    }
    if (present.count("pos") && present.count("neg")) return {{"pos", "good"}, {"neg", "bad"}};
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& f : present) out.emplace_back(f, f);
    require(!out.empty(), "{}: no label sub-folders with {} files", where,
            o.extension.empty() ? "any" : o.extension);
    return out;
}

}  // namespace

TextDataset read_folder_dataset(const fs::path& dir, const FolderDatasetOptions& o) {
    require(fs::is_directory(dir), "{}: not a directory", dir.string());
    std::set<std::string> present;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.is_directory()) present.insert(e.path().filename().string());
    }
    TextDataset ds;
    ds.format = "folders";
    ds.has_labels = true;
    for (const auto& [folder, label] : choose_folders(present, o, dir.string())) {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(dir / folder)) {
            const std::string name = e.path().filename().string();
            if (e.is_regular_file() && has_extension(name, o.extension)) names.push_back(name);
        }
        std::sort(names.begin(), names.end());
        require(!names.empty(), "{}: no {} files", (dir / folder).string(),
                o.extension.empty() ? "" : o.extension);
        for (const auto& name : names) {
            const std::string source = folder + "/" + name;
            std::string text = read_file(dir / folder / name);
            check_no_nul(text, (dir / folder / name).string());
            ds.rows.push_back({universal_newlines(std::move(text)), label, source});
        }
    }
    return ds;
}

TextDataset read_tar_dataset(const fs::path& archive, const std::string& subdir_in,
                             const FolderDatasetOptions& o) {
    std::string prefix = subdir_in;
    while (prefix.rfind("./", 0) == 0) prefix.erase(0, 2);
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    if (!prefix.empty()) prefix += '/';
    // folder → (file name → content); only files directly inside a first-level folder.
    std::map<std::string, std::map<std::string, std::string>> files;
    const auto split = [&](const std::string& path, std::string& folder, std::string& name) {
        if (path.compare(0, prefix.size(), prefix) != 0) return false;
        const std::string rest = path.substr(prefix.size());
        const size_t slash = rest.find('/');
        if (slash == std::string::npos || rest.find('/', slash + 1) != std::string::npos) {
            return false;
        }
        folder = rest.substr(0, slash);
        name = rest.substr(slash + 1);
        return !name.empty() && has_extension(name, o.extension);
    };
    // With explicit folders only theirs are kept (aclImdb/train also holds 50,000 unlabelled
    // reviews in unsup/); otherwise which folders count is only known at the end, so all are.
    std::set<std::string> wanted_folders;
    for (const auto& [f, l] : o.folders) wanted_folders.insert(f);
    std::set<std::string> present;
    read_tar_files(
        archive,
        [&](const std::string& path) {
            std::string folder, name;
            if (!split(path, folder, name)) return false;
            present.insert(folder);
            return wanted_folders.empty() || wanted_folders.count(folder) > 0;
        },
        [&](const std::string& path, std::string content) {
            std::string folder, name;
            split(path, folder, name);
            files[folder][name] = std::move(content);
        });
    const std::string where = fmt::format("{}:{}", archive.string(), prefix.empty() ? "/" : prefix);
    TextDataset ds;
    ds.format = "tar";
    ds.has_labels = true;
    for (const auto& [folder, label] : choose_folders(present, o, where)) {
        auto it = files.find(folder);
        require(it != files.end() && !it->second.empty(), "{}{}: no files kept", where, folder);
        for (auto& [name, content] : it->second) {  // std::map: sorted by name
            const std::string source = prefix + folder + "/" + name;
            check_no_nul(content, archive.string() + ":" + source);
            ds.rows.push_back({universal_newlines(std::move(content)), label, source});
        }
    }
    return ds;
}

namespace {

// RFC 4180 records: fields split by `delim`, "quoted" fields may hold delim, newlines and "".
// Returns false at end of input. `line` is advanced past the record's newlines.
bool next_record(const std::string& s, size_t& pos, size_t& line, char delim,
                 std::vector<std::string>& fields, const std::string& name) {
    fields.clear();
    // Skip blank lines (pandas' skip_blank_lines).
    while (pos < s.size() && (s[pos] == '\n' || s[pos] == '\r')) {
        if (s[pos] == '\n') ++line;
        ++pos;
    }
    if (pos >= s.size()) return false;
    const size_t start_line = line;
    std::string cur;
    for (;;) {
        if (pos < s.size() && s[pos] == '"') {
            ++pos;
            for (;;) {
                require(pos < s.size(), "{}:{}: a quoted field is never closed", name, start_line);
                if (s[pos] == '"') {
                    if (pos + 1 < s.size() && s[pos + 1] == '"') {
                        cur.push_back('"');
                        pos += 2;
                        continue;
                    }
                    ++pos;
                    break;
                }
                if (s[pos] == '\n') ++line;
                cur.push_back(s[pos++]);
            }
            require(pos >= s.size() || s[pos] == delim || s[pos] == '\n' || s[pos] == '\r',
                    "{}:{}: unexpected character after a closing quote", name, line);
        } else {
            while (pos < s.size() && s[pos] != delim && s[pos] != '\n' && s[pos] != '\r') {
                cur.push_back(s[pos++]);
            }
        }
        fields.push_back(std::move(cur));
        cur.clear();
        if (pos < s.size() && s[pos] == delim) {
            ++pos;
            continue;
        }
        if (pos < s.size() && s[pos] == '\r') ++pos;
        if (pos < s.size() && s[pos] == '\n') {
            ++pos;
            ++line;
        }
        return true;
    }
}

size_t find_column(const std::vector<std::string>& header, const std::string& column,
                   const std::string& what, const std::string& name, const std::string& flag) {
    auto it = std::find(header.begin(), header.end(), column);
    require(it != header.end(),
            "{}: no {} column '{}' in the header (columns: {}); choose one with {}", name, what,
            column, fmt::join(header, ", "), flag);
    return static_cast<size_t>(it - header.begin());
}

}  // namespace

TextDataset read_delimited_dataset(const fs::path& path, const DelimitedDatasetOptions& o) {
    const std::string name = path.string();
    std::string s = read_file(path);
    if (s.rfind("\xEF\xBB\xBF", 0) == 0) s.erase(0, 3);  // a UTF-8 byte-order mark
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    const char delim = o.delimiter != 0                   ? o.delimiter
                       : (ext == ".tsv" || ext == ".tab") ? '\t'
                                                          : ',';
    size_t pos = 0, line = 1;
    std::vector<std::string> header, fields;
    require(next_record(s, pos, line, delim, header, name), "{}: empty file (no header line)",
            name);
    const size_t text_col = find_column(header, o.text_column, "text", name, "--text-column");
    const bool labelled = !o.label_column.empty();
    const size_t label_col =
        labelled ? find_column(header, o.label_column, "label", name, "--label-column") : 0;
    TextDataset ds;
    ds.format = delim == '\t' ? "tsv" : "csv";
    ds.has_labels = labelled;
    for (;;) {
        while (pos < s.size() && (s[pos] == '\n' || s[pos] == '\r')) {
            if (s[pos] == '\n') ++line;
            ++pos;
        }
        const size_t record_line = line;
        if (!next_record(s, pos, line, delim, fields, name)) break;
        require(fields.size() == header.size(),
                "{}:{}: {} fields, but the header has {} (an unquoted delimiter or quote?)", name,
                record_line, fields.size(), header.size());
        const std::string source = fmt::format("{}:{}", path.filename().string(), record_line);
        check_no_nul(fields[text_col], fmt::format("{}:{}", name, record_line));
        TextRow row{std::move(fields[text_col]), labelled ? fields[label_col] : "", source};
        require(!labelled || !row.label.empty(), "{}:{}: empty label in column '{}'", name,
                record_line, o.label_column);
        ds.rows.push_back(std::move(row));
    }
    require(!ds.rows.empty(), "{}: no rows after the header", name);
    return ds;
}

namespace {

std::vector<std::string> read_lines(const fs::path& path) {
    const std::string s = read_file(path);
    std::vector<std::string> lines;
    size_t pos = 0;
    while (pos < s.size()) {
        size_t end = s.find('\n', pos);
        if (end == std::string::npos) end = s.size();
        std::string line = s.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(std::move(line));
        pos = end + 1;
    }
    return lines;
}

}  // namespace

TextDataset read_lines_dataset(const fs::path& texts, const fs::path& labels) {
    TextDataset ds;
    ds.format = "lines";
    const auto lines = read_lines(texts);
    require(!lines.empty(), "{}: empty file", texts.string());
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string source = fmt::format("{}:{}", texts.filename().string(), i + 1);
        check_no_nul(lines[i], fmt::format("{}:{}", texts.string(), i + 1));
        ds.rows.push_back({lines[i], "", source});
    }
    if (!labels.empty()) {
        const auto ls = read_lines(labels);
        require(ls.size() == lines.size(), "{}: {} labels for the {} lines of {}", labels.string(),
                ls.size(), lines.size(), texts.string());
        for (size_t i = 0; i < ls.size(); ++i) {
            require(!ls[i].empty(), "{}:{}: empty label", labels.string(), i + 1);
            ds.rows[i].label = ls[i];
        }
        ds.has_labels = true;
    }
    return ds;
}

}  // namespace promptlens
