// Shared test helpers: temporary directories, test-data paths, tolerance checks.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.hpp"
#include "core/matrix.hpp"

namespace promptlens::test {

inline std::filesystem::path data_path(const std::string& rel) {
    return std::filesystem::path(PROMPTLENS_TEST_DATA) / rel;
}

// A fresh directory under the system temp dir, removed at the end of the test.
class TempDir {
  public:
    TempDir() {
        auto base = std::filesystem::temp_directory_path();
        for (int i = 0;; ++i) {
            path_ =
                base / ("promptlens-test-" + std::to_string(::getpid()) + "-" + std::to_string(i));
            if (std::filesystem::create_directory(path_)) break;
        }
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

inline void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The message of the promptlens::Error that f throws, or "(no error)".
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

// |a - b| <= atol + rtol * |ref| for every element; reports the worst element.
template <class A, class B>
::testing::AssertionResult all_close(const A& actual, const B& ref, double atol, double rtol) {
    if (actual.size() != ref.size()) {
        return ::testing::AssertionFailure()
               << "size " << actual.size() << " != reference size " << ref.size();
    }
    double worst = 0;
    size_t worst_i = 0;
    bool ok = true;
    for (size_t i = 0; i < ref.size(); ++i) {
        double a = actual[i], r = ref[i];
        double excess = std::fabs(a - r) - (atol + rtol * std::fabs(r));
        if (!(excess <= 0)) ok = false;
        if (!(excess <= worst)) {
            worst = std::isnan(excess) ? INFINITY : excess;
            worst_i = i;
        }
    }
    if (ok) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "element " << worst_i << ": " << actual[worst_i] << " vs reference " << ref[worst_i]
           << " (atol " << atol << ", rtol " << rtol << ")";
}

inline std::vector<double> flat(ConstMatView m) {
    std::vector<double> v;
    v.reserve(m.rows() * m.cols());
    for (size_t i = 0; i < m.rows(); ++i)
        for (float x : m.row(i)) v.push_back(x);
    return v;
}

}  // namespace promptlens::test
