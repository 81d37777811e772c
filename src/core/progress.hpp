// Progress for long work: on a terminal, one self-overwriting line on stderr with the count,
// the rate and the ETA; nothing when stderr is not a terminal or when quiet mode is on.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace promptlens {

// Global switch set by `--quiet`.
void set_progress_quiet(bool quiet);
bool progress_enabled();

class Progress {
public:
    // `unit` names what is counted ("rows", "iterations").
    Progress(std::string label, size_t total, std::string unit = "");
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    // Sets the number of finished items, with an optional note ("inertia 1.2e7").
    void update(size_t done, const std::string& note = "");
    void finish();

private:
    void draw(bool final);

    std::string label_, unit_, note_;
    size_t total_, done_ = 0;
    bool enabled_, finished_ = false;
    std::chrono::steady_clock::time_point start_, last_draw_;
};

// Formats seconds as "4.2s", "3m05s" or "1h02m".
std::string format_duration(double seconds);

}  // namespace promptlens
