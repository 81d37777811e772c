// The study's interactive report: every panel of the grid, the texts, label-token wins, nearest
// neighbours in each feature space and the metric tables, handed to report/report_html.hpp.
#pragma once

#include <filesystem>
#include <vector>

#include "core/labels.hpp"
#include "extract/extract_job.hpp"
#include "study/study_panel.hpp"
#include "study/study_runner.hpp"
#include "study/study_spec.hpp"

namespace promptlens {

void write_study_report(const std::filesystem::path& path, const StudySpec& spec,
                        const ExtractJobResult& extraction, const Labels& labels,
                        const std::vector<Panel>& panels, const StudyRunSummary& summary,
                        int threads);

}  // namespace promptlens
