// Progress for long work: on a terminal, one self-overwriting line on stderr with the count,
// the rate and the ETA; nothing when stderr is not a terminal or when quiet mode is on.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>

namespace promptlens {

// How long-running algorithms report: `done` of `total` units finished. Algorithms call it from
// any thread (it must be thread-safe); an empty callback means nobody is listening.
using ProgressCallback = std::function<void(size_t done, size_t total)>;

// Global switch set by `--quiet`.
void set_progress_quiet(bool quiet);
bool progress_quiet();    // --quiet was given
bool progress_enabled();  // not quiet, and stderr is a terminal

class Progress {
  public:
    // `unit` names what is counted ("rows", "iterations").
    Progress(std::string label, size_t total, std::string unit = "");
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    // Sets the number of finished items, with an optional note ("inertia 1.2e7"). Thread-safe.
    void update(size_t done, const std::string& note = "");
    void update(size_t done, size_t total);
    void finish();
    // A callback for algorithms that forwards to update(); it also takes their total.
    ProgressCallback callback() {
        return [this](size_t done, size_t total) { update(done, total); };
    }

  private:
    void draw(bool final);

    std::string label_, unit_, note_;
    size_t total_, done_ = 0;
    bool enabled_, finished_ = false;
    std::chrono::steady_clock::time_point start_, last_draw_;
    std::mutex mutex_;
};

// Formats seconds as "4.2s", "3m05s" or "1h02m".
std::string format_duration(double seconds);

}  // namespace promptlens
