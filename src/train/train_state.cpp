#include "train/train_state.hpp"

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <vector>

#include "core/error.hpp"
#include "model/safetensors.hpp"

namespace promptlens::train {
namespace {

constexpr const char* kFormat = "promptlens-train-state-1";

std::span<const std::byte> as_bytes(std::span<const double> v) {
    return {reinterpret_cast<const std::byte*>(v.data()), v.size_bytes()};
}

std::vector<double> read_f64(const SafetensorsFile& f, const std::string& name, size_t count) {
    const TensorInfo& t = f.get(name);
    require(t.dtype == TensorDType::F64 && t.count() == count,
            "{}: tensor {} is {} {} but this checkpoint needs F64 with {} values",
            f.path().string(), name, tensor_dtype_name(t.dtype), shape_string(t.shape), count);
    std::vector<double> out(count);
    const auto bytes = f.bytes(t);
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
}

const std::string& meta(const SafetensorsFile& f, const std::string& key) {
    const auto it = f.metadata().find(key);
    require(it != f.metadata().end(), "{}: checkpoint metadata has no '{}'", f.path().string(),
            key);
    return it->second;
}

size_t meta_size(const SafetensorsFile& f, const std::string& key) {
    const std::string& s = meta(f, key);
    size_t pos = 0;
    unsigned long long v = 0;
    try {
        v = std::stoull(s, &pos);
    } catch (const std::exception&) {
        pos = 0;
    }
    require(pos == s.size() && !s.empty(), "{}: checkpoint metadata '{}' is '{}', not a count",
            f.path().string(), key, s);
    return size_t(v);
}

double meta_double(const SafetensorsFile& f, const std::string& key) {
    const std::string& s = meta(f, key);
    size_t pos = 0;
    double v = 0;
    try {
        v = std::stod(s, &pos);
    } catch (const std::exception&) {
        pos = 0;
    }
    require(pos == s.size() && !s.empty(), "{}: checkpoint metadata '{}' is '{}', not a number",
            f.path().string(), key, s);
    return v;
}

}  // namespace

void save_train_state(const std::filesystem::path& path, const TrainState& s) {
    const size_t P = s.prompt.rows(), C = s.prompt.cols();
    std::vector<TensorToWrite> tensors{
        {"prompt", TensorDType::F64, {P, C}, as_bytes(s.prompt.values())}};
    if (!s.adam.m.empty()) {
        tensors.push_back({"adam_m", TensorDType::F64, {P, C}, as_bytes(s.adam.m)});
        tensors.push_back({"adam_v", TensorDType::F64, {P, C}, as_bytes(s.adam.v)});
    }
    const std::map<std::string, std::string> metadata{
        {"format", kFormat},
        {"identity", s.identity},
        {"adam_step", std::to_string(s.adam.step)},
        {"epoch", std::to_string(s.position.epoch)},
        {"batch", std::to_string(s.position.batch)},
        {"epoch_loss_sum", fmt::format("{:.17g}", s.epoch_loss_sum)},
        {"epoch_rows", std::to_string(s.epoch_rows)},
        {"best_score", fmt::format("{:.17g}", s.best_score)},
        {"best_epoch", std::to_string(s.best_epoch)},
        {"seconds", fmt::format("{:.17g}", s.seconds)},
        {"history", s.history},
    };
    write_safetensors(path, tensors, metadata);
}

TrainState load_train_state(const std::filesystem::path& path) {
    const SafetensorsFile f(path);
    require(meta(f, "format") == kFormat, "{}: not a promptlens training checkpoint (format '{}')",
            path.string(), meta(f, "format"));
    TrainState s;
    s.identity = meta(f, "identity");
    const TensorInfo& pt = f.get("prompt");
    require(pt.shape.size() == 2, "{}: tensor prompt has shape {}, expected [P, C]", path.string(),
            shape_string(pt.shape));
    s.prompt = MatrixD(pt.shape[0], pt.shape[1]);
    const auto p = read_f64(f, "prompt", s.prompt.size());
    std::copy(p.begin(), p.end(), s.prompt.data());
    s.adam.step = meta_size(f, "adam_step");
    if (s.adam.step > 0) {
        s.adam.m = read_f64(f, "adam_m", s.prompt.size());
        s.adam.v = read_f64(f, "adam_v", s.prompt.size());
    }
    s.position.epoch = meta_size(f, "epoch");
    s.position.batch = meta_size(f, "batch");
    s.epoch_loss_sum = meta_double(f, "epoch_loss_sum");
    s.epoch_rows = meta_size(f, "epoch_rows");
    s.best_score = meta_double(f, "best_score");
    s.best_epoch = meta_size(f, "best_epoch");
    s.seconds = meta_double(f, "seconds");
    s.history = meta(f, "history");
    return s;
}

}  // namespace promptlens::train
