#include "core/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

namespace promptlens {
namespace {
std::atomic<bool> g_quiet{false};
}

void set_progress_quiet(bool quiet) {
    g_quiet = quiet;
}
bool progress_quiet() {
    return g_quiet;
}
bool progress_enabled() {
    return !g_quiet && ::isatty(STDERR_FILENO) == 1;
}

std::string format_duration(double s) {
    if (s < 60) return fmt::format("{:.1f}s", s);
    const long total = std::lround(s);
    if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
    return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
}

Progress::Progress(std::string label, size_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      enabled_(progress_enabled()),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
    if (!finished_ && enabled_ && done_ > 0) std::fputs("\n", stderr);
}

void Progress::update(size_t done, const std::string& note) {
    if (!enabled_) return;
    std::lock_guard lock(mutex_);
    done_ = std::max(done_, done);
    note_ = note;
    auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(100) && done < total_) return;
    last_draw_ = now;
    draw(false);
}

void Progress::update(size_t done, size_t total) {
    {
        std::lock_guard lock(mutex_);
        total_ = total;
    }
    update(done);
}

void Progress::finish() {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    if (enabled_) draw(true);
}

void Progress::draw(bool final) {
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
    std::string eta;
    if (final) {
        eta = "in " + format_duration(elapsed);
    } else if (rate > 0 && total_ > done_) {
        eta = "ETA " + format_duration(static_cast<double>(total_ - done_) / rate);
    }
    std::string line =
        fmt::format("\r{}: {}/{} {} ({:.1f}/s) {}", label_, done_, total_, unit_, rate, eta);
    if (!note_.empty()) line += "  " + note_;
    std::fprintf(stderr, "%-79s%s", line.c_str(), final ? "\n" : "");
    std::fflush(stderr);
}

}  // namespace promptlens
