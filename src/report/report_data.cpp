#include "report/report_data.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "plot/palette.hpp"

namespace promptlens::report {
namespace {

using nlohmann::json;

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr double kQuantSteps = 65535.0;
constexpr size_t kPaletteEntries = 36;  // three cycles of plot::class_colour

// Little-endian bytes of `values` in the smallest unsigned type that holds them all:
// {"t": "u8"|"u16"|"u32", "b": base64}. Values must be ≥ 0.
json typed_array(const std::vector<int64_t>& values) {
    int64_t hi = 0;
    for (int64_t v : values) hi = std::max(hi, v);
    const size_t width = hi <= 0xFF ? 1 : hi <= 0xFFFF ? 2 : 4;
    std::vector<uint8_t> bytes(values.size() * width);
    for (size_t i = 0; i < values.size(); ++i) {
        const auto v = static_cast<uint64_t>(values[i]);
        for (size_t b = 0; b < width; ++b)
            bytes[i * width + b] = static_cast<uint8_t>(v >> (8 * b));
    }
    return {{"t", width == 1   ? "u8"
                  : width == 2 ? "u16"
                               : "u32"},
            {"b", base64_encode(bytes.data(), bytes.size())}};
}

template <class T>
json typed_array_of(const std::vector<T>& values) {
    return typed_array(std::vector<int64_t>(values.begin(), values.end()));
}

// N×2 float coordinates → per-axis [lo, hi] and interleaved uint16 steps (see the header).
json quantised_xy(const std::vector<float>& xy) {
    const size_t n = xy.size() / 2;
    double lo[2] = {0, 0}, hi[2] = {0, 0};
    for (size_t a = 0; a < 2; ++a) {
        if (n == 0) break;
        lo[a] = hi[a] = xy[a];
        for (size_t i = 0; i < n; ++i) {
            lo[a] = std::min(lo[a], static_cast<double>(xy[2 * i + a]));
            hi[a] = std::max(hi[a], static_cast<double>(xy[2 * i + a]));
        }
    }
    std::vector<uint8_t> bytes(xy.size() * 2);
    for (size_t i = 0; i < xy.size(); ++i) {
        const size_t a = i % 2;
        const double range = hi[a] - lo[a];
        const double t = range > 0 ? (xy[i] - lo[a]) / range : 0.0;
        const auto q = static_cast<uint16_t>(std::lround(std::clamp(t, 0.0, 1.0) * kQuantSteps));
        bytes[2 * i] = static_cast<uint8_t>(q & 0xFF);
        bytes[2 * i + 1] = static_cast<uint8_t>(q >> 8);
    }
    return {{"x_range", {lo[0], hi[0]}},
            {"y_range", {lo[1], hi[1]}},
            {"steps", kQuantSteps},
            {"xy", {{"t", "u16"}, {"b", base64_encode(bytes.data(), bytes.size())}}}};
}

// Length of the UTF-8 sequence starting at s[i], or 0 when it is not valid UTF-8.
size_t utf8_sequence(const std::string& s, size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0)
        len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
        len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (i + len > s.size()) return 0;
    for (size_t k = 1; k < len; ++k) {
        const auto d = static_cast<unsigned char>(s[i + k]);
        if ((d & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (d & 0x3F);
    }
    const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

}  // namespace

std::string base64_encode(const void* bytes, size_t size) {
    const auto* p = static_cast<const uint8_t*>(bytes);
    std::string out;
    out.reserve((size + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
        out += kB64[v >> 18];
        out += kB64[(v >> 12) & 63];
        out += kB64[(v >> 6) & 63];
        out += kB64[v & 63];
    }
    if (i < size) {
        const uint32_t v = (uint32_t{p[i]} << 16) | (i + 1 < size ? uint32_t{p[i + 1]} << 8 : 0);
        out += kB64[v >> 18];
        out += kB64[(v >> 12) & 63];
        out += i + 1 < size ? kB64[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::vector<uint8_t> base64_decode(const std::string& text) {
    require(text.size() % 4 == 0, "base64: length {} is not a multiple of 4", text.size());
    auto value = [&](char c) -> uint32_t {
        const char* hit = std::find(kB64, kB64 + 64, c);
        require(hit != kB64 + 64, "base64: unexpected character '{}'", c);
        return static_cast<uint32_t>(hit - kB64);
    };
    std::vector<uint8_t> out;
    for (size_t i = 0; i < text.size(); i += 4) {
        const size_t pad = text[i + 3] == '=' ? (text[i + 2] == '=' ? 2 : 1) : 0;
        uint32_t v = (value(text[i]) << 18) | (value(text[i + 1]) << 12);
        if (pad < 2) v |= value(text[i + 2]) << 6;
        if (pad < 1) v |= value(text[i + 3]);
        out.push_back(static_cast<uint8_t>(v >> 16));
        if (pad < 2) out.push_back(static_cast<uint8_t>(v >> 8));
        if (pad < 1) out.push_back(static_cast<uint8_t>(v));
    }
    return out;
}

std::string clip_text(const std::string& text, size_t max_chars) {
    std::string out;
    size_t chars = 0;
    for (size_t i = 0; i < text.size();) {
        if (max_chars != 0 && chars == max_chars) {
            out += "\u2026";
            break;
        }
        const size_t len = utf8_sequence(text, i);
        if (len == 0) {
            out += "\uFFFD";
            ++i;
        } else {
            out.append(text, i, len);
            i += len;
        }
        ++chars;
    }
    return out;
}

void validate(const ReportData& d) {
    const size_t n = d.rows.size();
    require(d.labels.size() == n, "report: {} rows but {} labels", n, d.labels.size());
    for (size_t i = 0; i < n; ++i)
        require(d.labels[i] >= 0 && static_cast<size_t>(d.labels[i]) < d.label_names.size(),
                "report: row {} has label code {}, but there are {} label names", i, d.labels[i],
                d.label_names.size());
    for (size_t s = 0; s < d.neighbor_sets.size(); ++s) {
        const NeighborSet& ns = d.neighbor_sets[s];
        require(ns.ids.size() == n * ns.k,
                "report: neighbour set {} ('{}') has {} ids, expected {} rows x k={} = {}", s,
                ns.space, ns.ids.size(), n, ns.k, n * ns.k);
        for (size_t j = 0; j < ns.ids.size(); ++j)
            require(ns.ids[j] >= 0 && static_cast<size_t>(ns.ids[j]) < n,
                    "report: neighbour set {} ('{}'), row {}: neighbour id {} is outside 0..{}", s,
                    ns.space, j / std::max<size_t>(ns.k, 1), ns.ids[j], n - 1);
    }
    std::vector<std::string> ids;
    for (const Panel& p : d.panels) {
        require(!p.id.empty(), "report: panel '{}' has an empty id", p.title);
        require(std::find(ids.begin(), ids.end(), p.id) == ids.end(),
                "report: two panels have the id '{}'", p.id);
        ids.push_back(p.id);
        require(p.xy.size() == 2 * n, "report: panel '{}' has {} coordinates, expected {} rows x 2",
                p.id, p.xy.size(), n);
        for (size_t j = 0; j < p.xy.size(); ++j)
            require(std::isfinite(p.xy[j]), "report: panel '{}', row {}: coordinate {} is {}", p.id,
                    j / 2, j % 2, p.xy[j]);
        require(p.clusters.empty() || p.clusters.size() == n,
                "report: panel '{}' has {} cluster ids for {} rows", p.id, p.clusters.size(), n);
        for (size_t i = 0; i < p.clusters.size(); ++i)
            require(p.clusters[i] >= 0, "report: panel '{}', row {}: cluster id {} is negative",
                    p.id, i, p.clusters[i]);
        require(p.label_token_won.empty() || p.label_token_won.size() == n,
                "report: panel '{}' has {} label-token flags for {} rows", p.id,
                p.label_token_won.size(), n);
        require(p.neighbor_set >= -1 && p.neighbor_set < static_cast<int>(d.neighbor_sets.size()),
                "report: panel '{}' refers to neighbour set {}, but there are {}", p.id,
                p.neighbor_set, d.neighbor_sets.size());
    }
    for (const Table& t : d.tables)
        for (size_t r = 0; r < t.rows.size(); ++r)
            require(t.rows[r].size() == t.columns.size(),
                    "report: table '{}', row {} has {} cells for {} columns", t.title, r,
                    t.rows[r].size(), t.columns.size());
}

nlohmann::json to_json(const ReportData& d, const SerializeOptions& options) {
    validate(d);
    const size_t n = d.rows.size();
    json j;
    j["format"] = "promptlens-report";
    j["version"] = 1;
    j["title"] = clip_text(d.title, 0);
    j["model"] = clip_text(d.model, 0);
    j["random_weights"] = d.random_weights;
    j["provenance"] = json::array();
    for (const std::string& line : d.provenance) j["provenance"].push_back(clip_text(line, 0));
    j["n"] = n;

    // Per-row strings; a column that is empty in every row is sent as null.
    size_t clipped = 0;
    auto column = [&](auto field, size_t max_chars) -> json {
        bool any = false;
        for (const Row& r : d.rows) any = any || !field(r).empty();
        if (!any) return nullptr;
        json a = json::array();
        for (const Row& r : d.rows) {
            std::string s = clip_text(field(r), max_chars);
            if (max_chars != 0 && s != clip_text(field(r), 0)) ++clipped;
            a.push_back(std::move(s));
        }
        return a;
    };
    j["ids"] = column([](const Row& r) -> const std::string& { return r.id; }, 0);
    j["sources"] = column([](const Row& r) -> const std::string& { return r.source; }, 0);
    j["texts"] =
        column([](const Row& r) -> const std::string& { return r.text; }, options.max_text_chars);
    j["max_text_chars"] = options.max_text_chars;
    j["texts_clipped"] = clipped;

    j["label_names"] = json::array();
    j["label_colours"] = json::array();
    for (size_t c = 0; c < d.label_names.size(); ++c) {
        j["label_names"].push_back(clip_text(d.label_names[c], 0));
        j["label_colours"].push_back(plot::hex(plot::class_colour(c)));
    }
    j["palette"] = json::array();
    for (size_t c = 0; c < kPaletteEntries; ++c)
        j["palette"].push_back(plot::hex(plot::class_colour(c)));
    j["labels"] = typed_array_of(d.labels);

    j["neighbor_sets"] = json::array();
    for (const NeighborSet& ns : d.neighbor_sets)
        j["neighbor_sets"].push_back(
            {{"space", clip_text(ns.space, 0)}, {"k", ns.k}, {"ids", typed_array_of(ns.ids)}});

    j["panels"] = json::array();
    for (const Panel& p : d.panels) {
        json pj = quantised_xy(p.xy);
        pj["id"] = clip_text(p.id, 0);
        pj["title"] = clip_text(p.title, 0);
        pj["subtitle"] = clip_text(p.subtitle, 0);
        pj["x_axis"] = clip_text(p.x_axis, 0);
        pj["y_axis"] = clip_text(p.y_axis, 0);
        pj["note"] = clip_text(p.note, 0);
        pj["neighbors"] = p.neighbor_set;
        if (p.clusters.empty()) {
            pj["clusters"] = nullptr;
            pj["n_clusters"] = 0;
        } else {
            pj["clusters"] = typed_array_of(p.clusters);
            pj["n_clusters"] = *std::max_element(p.clusters.begin(), p.clusters.end()) + 1;
        }
        pj["won"] = p.label_token_won.empty() ? json(nullptr) : typed_array_of(p.label_token_won);
        j["panels"].push_back(std::move(pj));
    }

    j["tables"] = json::array();
    for (const Table& t : d.tables) {
        json tj = {{"title", clip_text(t.title, 0)}, {"note", clip_text(t.note, 0)}};
        tj["columns"] = json::array();
        for (const std::string& c : t.columns) tj["columns"].push_back(clip_text(c, 0));
        tj["rows"] = json::array();
        for (const auto& row : t.rows) {
            json r = json::array();
            for (const std::string& cell : row) r.push_back(clip_text(cell, 0));
            tj["rows"].push_back(std::move(r));
        }
        j["tables"].push_back(std::move(tj));
    }
    return j;
}

}  // namespace promptlens::report
