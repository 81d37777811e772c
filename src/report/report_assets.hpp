// The report's browser assets, compiled in from report/*.{html,css,js} by cmake/embed_files.cmake
// (the generated report_assets.cpp lives in the build folder), so `promptlens` needs no data files.
#pragma once

#include <string_view>

namespace promptlens::report::assets {

std::string_view template_html();  // report/template.html
std::string_view report_css();     // report/report.css
std::string_view report_js();      // report/report.js

}  // namespace promptlens::report::assets
