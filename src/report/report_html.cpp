#include "report/report_html.hpp"

#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "report/report_assets.hpp"

namespace promptlens::report {
namespace {

std::string html_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

}  // namespace

std::string script_safe_json(const std::string& json_text) {
    std::string out;
    out.reserve(json_text.size() + json_text.size() / 64);
    for (char c : json_text) {
        if (c == '<')
            out += "\\u003c";
        else
            out += c;
    }
    return out;
}

std::string render_report_html(const ReportData& data, const SerializeOptions& options) {
    const std::string json_text =
        to_json(data, options).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // Each placeholder appears once in the template; the page is assembled from the template's
    // pieces, so a placeholder-like string inside the data or the assets is never substituted.
    const std::pair<std::string_view, std::string> parts[] = {
        {"__PROMPTLENS_TITLE__", html_escape(data.title)},
        {"/*__PROMPTLENS_CSS__*/", std::string(assets::report_css())},
        {"__PROMPTLENS_DATA__", script_safe_json(json_text)},
        {"/*__PROMPTLENS_JS__*/", std::string(assets::report_js())},
    };
    const std::string_view tpl = assets::template_html();
    std::string out;
    size_t at = 0;
    for (const auto& [key, value] : parts) {
        const size_t hit = tpl.find(key, at);
        require(hit != std::string_view::npos,
                "report: the template lacks the placeholder {} (after byte {})", key, at);
        out.append(tpl.substr(at, hit - at));
        out += value;
        at = hit + key.size();
    }
    out.append(tpl.substr(at));
    return out;
}

size_t write_report_html(const std::filesystem::path& path, const ReportData& data,
                         const SerializeOptions& options) {
    const std::string page = render_report_html(data, options);
    write_text_file(path, page);
    return page.size();
}

}  // namespace promptlens::report
