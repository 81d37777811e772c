// `promptlens run STUDY.toml`: a study specification (study_spec.hpp) turned into results, step by
// step, each step reused when its inputs and options are unchanged:
//  1. model: the folder or hub name given, or a deterministic random-weight GPT-2 written once;
//  2. extract: every text through GPT-2 and every prompt (extract/extract_job.hpp), resumable;
//  3. panels: for each prompt × output × scaling (grid rows) and method (grid columns) a 2-D
//     embedding with its metrics and KMeans tables (study_panel.hpp), cached per panel;
//  4. figures: the small-multiples grid (PNG, SVG and PDF; its heading names the study and the
//     model) and one heatmap per KMeans table;
//  5. tables: OUT/metrics.csv and OUT/summary.json; 6. the interactive OUT/report.html.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "study/study_panel.hpp"
#include "study/study_spec.hpp"

namespace promptlens {

struct StudyRunOptions {
    int threads = -1;  // −1: the study's own `threads`
};

struct StudyRunSummary {
    size_t rows = 0;
    bool random_model = false;
    std::string model;  // folder used
    bool extract_reused = false;
    size_t panels = 0, panels_reused = 0;
    std::vector<std::filesystem::path> figures;
    std::filesystem::path report;
    double seconds = 0;
};

StudyRunSummary run_study(const StudySpec& spec, const StudyRunOptions& options = {});

}  // namespace promptlens
