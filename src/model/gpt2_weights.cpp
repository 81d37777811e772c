#include "model/gpt2_weights.hpp"

#include <functional>
#include <set>

#include "core/error.hpp"
#include "model/torch_file.hpp"

namespace promptlens {
namespace {

// Name → tensor lookup over either checkpoint format (safetensors file or torch state dict).
struct Source {
    std::string path;
    std::vector<std::string> names;  // every tensor in the file
    std::function<const std::vector<size_t>*(const std::string&)> shape;  // nullptr when absent
    // float32 values; anything it had to allocate is kept alive in w.owned.
    std::function<std::span<const float>(const std::string&, Gpt2Weights& w)> values;
};

class Binder {
  public:
    Binder(Gpt2Weights& w, const Source& src, std::string prefix)
        : w_(w), src_(src), prefix_(std::move(prefix)) {}

    std::span<const float> bind(const std::string& name, std::vector<size_t> shape) {
        const std::string full = prefix_ + name;
        const std::vector<size_t>* t = src_.shape(full);
        require(t != nullptr,
                "{}: missing tensor \"{}\" (expected shape {}; the file has {} tensors)", src_.path,
                full, shape_string(shape), src_.names.size());
        require(*t == shape,
                "{}: tensor \"{}\" has shape {} but config.json (n_embd {}, n_layer {}, vocab {}, "
                "n_positions {}) needs {}",
                src_.path, full, shape_string(*t), w_.config.n_embd, w_.config.n_layer,
                w_.config.vocab_size, w_.config.n_positions, shape_string(shape));
        used_.insert(full);
        return src_.values(full, w_);
    }
    const std::set<std::string>& used() const { return used_; }

  private:
    Gpt2Weights& w_;
    const Source& src_;
    std::string prefix_;
    std::set<std::string> used_;
};

void bind_all(Gpt2Weights& w, const Source& src) {
    const Gpt2Config& config = w.config;
    if (!src.shape("wte.weight") && src.shape("transformer.wte.weight")) w.prefix = "transformer.";
    const size_t C = config.n_embd, I = config.n_inner, V = config.vocab_size;
    Binder b(w, src, w.prefix);
    w.wte = b.bind("wte.weight", {V, C});
    w.wpe = b.bind("wpe.weight", {config.n_positions, C});
    for (size_t l = 0; l < config.n_layer; ++l) {
        const std::string p = "h." + std::to_string(l) + ".";
        Gpt2LayerWeights L;
        L.ln_1_w = b.bind(p + "ln_1.weight", {C});
        L.ln_1_b = b.bind(p + "ln_1.bias", {C});
        L.c_attn_w = b.bind(p + "attn.c_attn.weight", {C, 3 * C});
        L.c_attn_b = b.bind(p + "attn.c_attn.bias", {3 * C});
        L.attn_proj_w = b.bind(p + "attn.c_proj.weight", {C, C});
        L.attn_proj_b = b.bind(p + "attn.c_proj.bias", {C});
        L.ln_2_w = b.bind(p + "ln_2.weight", {C});
        L.ln_2_b = b.bind(p + "ln_2.bias", {C});
        L.fc_w = b.bind(p + "mlp.c_fc.weight", {C, I});
        L.fc_b = b.bind(p + "mlp.c_fc.bias", {I});
        L.mlp_proj_w = b.bind(p + "mlp.c_proj.weight", {I, C});
        L.mlp_proj_b = b.bind(p + "mlp.c_proj.bias", {C});
        w.layers.push_back(L);
    }
    w.ln_f_w = b.bind("ln_f.weight", {C});
    w.ln_f_b = b.bind("ln_f.bias", {C});
    if (config.tie_word_embeddings) {
        w.lm_head = w.wte;  // HF ties the two; a stored lm_head.weight is the same tensor
    } else {
        Binder head(w, src, "");
        require(src.shape("lm_head.weight") != nullptr,
                "{}: config.json sets tie_word_embeddings false but the file has no "
                "\"lm_head.weight\"",
                src.path);
        w.lm_head = head.bind("lm_head.weight", {V, C});
    }
    for (const auto& name : src.names) {
        if (b.used().count(name)) continue;
        if (name == "lm_head.weight" && !config.tie_word_embeddings) continue;
        w.ignored_tensors.push_back(name);
    }
}

}  // namespace

Gpt2Weights load_gpt2_weights(std::shared_ptr<const SafetensorsFile> file,
                              const Gpt2Config& config) {
    Gpt2Weights w;
    w.config = config;
    w.file = std::move(file);
    const SafetensorsFile& f = *w.file;
    Source src;
    src.path = f.path().string();
    for (const auto& t : f.tensors()) src.names.push_back(t.name);
    src.shape = [&f](const std::string& n) -> const std::vector<size_t>* {
        const TensorInfo* t = f.find(n);
        return t ? &t->shape : nullptr;
    };
    src.values = [&f](const std::string& n, Gpt2Weights& out) -> std::span<const float> {
        const TensorInfo& t = f.get(n);
        if (auto view = f.f32_view(t)) return *view;
        out.owned.push_back(std::make_shared<const std::vector<float>>(f.read_f32(t)));
        ++out.converted_tensors;
        return *out.owned.back();
    };
    bind_all(w, src);
    return w;
}

Gpt2Weights load_gpt2_weights(const TorchFile& file, const Gpt2Config& config) {
    Gpt2Weights w;
    w.config = config;
    Source src;
    src.path = file.path.string();
    for (const auto& t : file.tensors) src.names.push_back(t.name);
    src.shape = [&file](const std::string& n) -> const std::vector<size_t>* {
        const TorchTensor* t = file.find(n);
        return t ? &t->shape : nullptr;
    };
    src.values = [&file](const std::string& n, Gpt2Weights& out) -> std::span<const float> {
        const TorchTensor& t = file.get(n);
        auto v = t.f32();  // floating storages are float32 already (f16/bf16 converted on read)
        if (t.dtype != TensorDType::F32) ++out.converted_tensors;
        out.owned.push_back(t.storage->f32);  // keeps the storage (shared by tied tensors) alive
        return v;
    };
    bind_all(w, src);
    return w;
}

Gpt2Weights load_gpt2_model(const std::filesystem::path& dir) {
    const auto config = read_gpt2_config(dir / "config.json");
    const auto st = dir / "model.safetensors";
    if (std::filesystem::exists(st))
        return load_gpt2_weights(std::make_shared<const SafetensorsFile>(st), config);
    const auto bin = dir / "pytorch_model.bin";
    require(std::filesystem::exists(bin), "{}: no model.safetensors and no pytorch_model.bin",
            dir.string());
    return load_gpt2_weights(load_torch_file(bin), config);
}

}  // namespace promptlens
