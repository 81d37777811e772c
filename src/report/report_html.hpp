// The interactive report as one self-contained HTML file: report/template.html with
// report/report.css, report/report.js and the data (report_data.hpp's JSON) inlined, so the page
// works offline and makes no network request (its Content-Security-Policy forbids any). The three
// asset files are compiled into the binary (cmake/embed_files.cmake → report_assets.hpp).
#pragma once

#include <filesystem>
#include <string>

#include "report/report_data.hpp"

namespace promptlens::report {

// The whole page as a string.
std::string render_report_html(const ReportData& data, const SerializeOptions& options = {});

// Writes the page atomically (a temporary beside `path`, renamed on success); creates parent
// folders. Returns the number of bytes written.
size_t write_report_html(const std::filesystem::path& path, const ReportData& data,
                         const SerializeOptions& options = {});

// JSON text made safe inside <script type="application/json">: every '<' becomes \u003c, so no
// text can close the script element or open a comment. Public for tests.
std::string script_safe_json(const std::string& json_text);

}  // namespace promptlens::report
