#include "model/gpt2_weights.hpp"

#include <set>

#include "core/error.hpp"

namespace promptlens {
namespace {

class Binder {
  public:
    Binder(Gpt2Weights& w, std::string prefix) : w_(w), prefix_(std::move(prefix)) {}

    std::span<const float> bind(const std::string& name, std::vector<size_t> shape) {
        const std::string full = prefix_ + name;
        const TensorInfo* t = w_.file->find(full);
        require(t != nullptr,
                "{}: missing tensor \"{}\" (expected shape {}; the file has {} tensors)",
                w_.file->path().string(), full, shape_string(shape), w_.file->tensors().size());
        require(t->shape == shape,
                "{}: tensor \"{}\" has shape {} but config.json (n_embd {}, n_layer {}, vocab {}, "
                "n_positions {}) needs {}",
                w_.file->path().string(), full, shape_string(t->shape), w_.config.n_embd,
                w_.config.n_layer, w_.config.vocab_size, w_.config.n_positions,
                shape_string(shape));
        used_.insert(full);
        if (auto view = w_.file->f32_view(*t)) return *view;
        w_.owned.push_back(std::make_shared<const std::vector<float>>(w_.file->read_f32(*t)));
        ++w_.converted_tensors;
        return *w_.owned.back();
    }
    const std::set<std::string>& used() const { return used_; }

  private:
    Gpt2Weights& w_;
    std::string prefix_;
    std::set<std::string> used_;
};

}  // namespace

Gpt2Weights load_gpt2_weights(std::shared_ptr<const SafetensorsFile> file,
                              const Gpt2Config& config) {
    Gpt2Weights w;
    w.config = config;
    w.file = std::move(file);
    const auto& f = *w.file;
    if (f.find("wte.weight") == nullptr && f.find("transformer.wte.weight") != nullptr) {
        w.prefix = "transformer.";
    }
    const size_t C = config.n_embd, I = config.n_inner, V = config.vocab_size;
    Binder b(w, w.prefix);
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
        Binder head(w, "");
        require(f.find("lm_head.weight") != nullptr,
                "{}: config.json sets tie_word_embeddings false but the file has no "
                "\"lm_head.weight\"",
                f.path().string());
        w.lm_head = head.bind("lm_head.weight", {V, C});
    }
    for (const auto& t : f.tensors()) {
        if (b.used().count(t.name)) continue;
        if (t.name == "lm_head.weight" && !config.tie_word_embeddings) continue;
        w.ignored_tensors.push_back(t.name);
    }
    return w;
}

Gpt2Weights load_gpt2_model(const std::filesystem::path& dir) {
    const auto config = read_gpt2_config(dir / "config.json");
    const auto st = dir / "model.safetensors";
    require(std::filesystem::exists(st),
            "{}: no model.safetensors (pytorch_model.bin is not supported yet)", dir.string());
    return load_gpt2_weights(std::make_shared<const SafetensorsFile>(st), config);
}

}  // namespace promptlens
