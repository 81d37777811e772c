// Errors with context. Code inside the library throws `promptlens::Error` with a message that
// names the file, the row or field and what was expected; the command line catches it once in
// main, prints it as one line and exits non-zero.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace promptlens {

class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
    throw Error(fmt::format(format, std::forward<Args>(args)...));
}

// Checks a precondition and throws a formatted Error when it does not hold.
template <class... Args>
void require(bool condition, fmt::format_string<Args...> format, Args&&... args) {
    if (!condition) throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace promptlens
