// Which steps of a study are already done. A step (one extraction, one embedding, one KMeans) is
// identified by a name and keyed by a hash of everything it depends on: its input's identity, its
// method and parameters, the seed. When a rerun finds the same key recorded and every output of
// the step present, the step is skipped; otherwise it runs and records its key only after its
// outputs are complete (each written atomically), so an interrupted step is simply redone.
// Records live in OUT/.steps/, one small file per step.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace promptlens {

class StepCache {
  public:
    explicit StepCache(std::filesystem::path out_dir);
    bool fresh(const std::string& step, const std::string& key,
               const std::vector<std::filesystem::path>& outputs) const;
    void record(const std::string& step, const std::string& key) const;

  private:
    std::filesystem::path file_of(const std::string& step) const;
    std::filesystem::path dir_;
};

}  // namespace promptlens
