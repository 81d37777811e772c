#include "study/step_cache.hpp"

#include <fstream>
#include <sstream>

#include "core/atomic_file.hpp"

namespace promptlens {

StepCache::StepCache(std::filesystem::path out_dir) : dir_(std::move(out_dir) / ".steps") {}

std::filesystem::path StepCache::file_of(const std::string& step) const {
    std::string name = step;
    for (char& c : name) {
        if (c == '/') c = '+';
    }
    return dir_ / (name + ".key");
}

bool StepCache::fresh(const std::string& step, const std::string& key,
                      const std::vector<std::filesystem::path>& outputs) const {
    std::ifstream in(file_of(step));
    if (!in) return false;
    std::stringstream s;
    s << in.rdbuf();
    if (s.str() != key + "\n") return false;
    for (const auto& p : outputs) {
        if (!std::filesystem::exists(p)) return false;
    }
    return true;
}

void StepCache::record(const std::string& step, const std::string& key) const {
    std::filesystem::create_directories(dir_);
    write_text_file(file_of(step), key + "\n");
}

}  // namespace promptlens
