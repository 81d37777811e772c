#include "model/random_gpt2.hpp"

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"

namespace promptlens {
namespace {
namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    require(in.good(), "{}: cannot read (a random GPT-2 needs GPT-2's tokenizer files)",
            p.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

struct Tensor {
    std::string name;
    std::vector<size_t> shape;
    std::vector<float> values;
};

}  // namespace

void write_random_gpt2(const fs::path& dir, const RandomGpt2Options& o) {
    require(o.layers > 0 && o.heads > 0 && o.embd > 0 && o.embd % o.heads == 0 && o.positions > 0,
            "random GPT-2: {} layers, {} heads, width {}, {} positions: need positive sizes and a "
            "width divisible by the heads",
            o.layers, o.heads, o.embd, o.positions);
    const std::string vocab_text = slurp(o.tokenizer / "vocab.json");
    const std::string merges_text = slurp(o.tokenizer / "merges.txt");
    size_t vocab = 0;
    try {
        vocab = nlohmann::json::parse(vocab_text).size();
    } catch (const nlohmann::json::exception& e) {
        fail("{}: not JSON: {}", (o.tokenizer / "vocab.json").string(), e.what());
    }
    require(vocab > 0, "{}: empty vocabulary", (o.tokenizer / "vocab.json").string());

    const size_t C = o.embd, I = 4 * o.embd;
    Rng rng(o.seed, 0x6E7);
    std::vector<Tensor> tensors;
    auto normal = [&](std::string name, std::vector<size_t> shape, double std) {
        size_t n = 1;
        for (size_t d : shape) n *= d;
        Tensor t{std::move(name), std::move(shape), std::vector<float>(n)};
        for (float& v : t.values) v = static_cast<float>(std * rng.normal());
        tensors.push_back(std::move(t));
    };
    auto constant = [&](std::string name, size_t n, float value) {
        tensors.push_back({std::move(name), {n}, std::vector<float>(n, value)});
    };
    const double residual_std = 0.02 / std::sqrt(2.0 * static_cast<double>(o.layers));
    normal("wte.weight", {vocab, C}, 0.02);
    normal("wpe.weight", {o.positions, C}, 0.01);
    for (size_t l = 0; l < o.layers; ++l) {
        const std::string p = "h." + std::to_string(l) + ".";
        constant(p + "ln_1.weight", C, 1);
        constant(p + "ln_1.bias", C, 0);
        normal(p + "attn.c_attn.weight", {C, 3 * C}, 0.02);
        constant(p + "attn.c_attn.bias", 3 * C, 0);
        normal(p + "attn.c_proj.weight", {C, C}, residual_std);
        constant(p + "attn.c_proj.bias", C, 0);
        constant(p + "ln_2.weight", C, 1);
        constant(p + "ln_2.bias", C, 0);
        normal(p + "mlp.c_fc.weight", {C, I}, 0.02);
        constant(p + "mlp.c_fc.bias", I, 0);
        normal(p + "mlp.c_proj.weight", {I, C}, residual_std);
        constant(p + "mlp.c_proj.bias", C, 0);
    }
    constant("ln_f.weight", C, 1);
    constant("ln_f.bias", C, 0);

    // safetensors: u64 header length, JSON header (offsets into the data block), the data.
    nlohmann::ordered_json header;
    header["__metadata__"] = {{"format", "pt"}, {"promptlens", "random GPT-2"}};
    size_t offset = 0;
    for (const Tensor& t : tensors) {
        const size_t bytes = t.values.size() * sizeof(float);
        header[t.name] = {
            {"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string head = header.dump();
    head.append((8 - head.size() % 8) % 8, ' ');
    fs::create_directories(dir);
    {
        AtomicFile f(dir / "model.safetensors");
        const uint64_t n = head.size();
        f.write(&n, sizeof n);
        f.write(head);
        for (const Tensor& t : tensors) f.write(t.values.data(), t.values.size() * sizeof(float));
        f.commit();
    }
    const nlohmann::ordered_json config = {{"model_type", "gpt2"},
                                           {"architectures", {"GPT2LMHeadModel"}},
                                           {"n_layer", o.layers},
                                           {"n_head", o.heads},
                                           {"n_embd", o.embd},
                                           {"n_positions", o.positions},
                                           {"n_ctx", o.positions},
                                           {"vocab_size", vocab},
                                           {"n_inner", nullptr},
                                           {"activation_function", "gelu_new"},
                                           {"layer_norm_epsilon", 1e-5},
                                           {"tie_word_embeddings", true},
                                           {"promptlens_random_weights", true},
                                           {"promptlens_seed", o.seed}};
    write_text_file(dir / "config.json", config.dump(2) + "\n");
    write_text_file(dir / "vocab.json", vocab_text);
    write_text_file(dir / "merges.txt", merges_text);
}

}  // namespace promptlens
