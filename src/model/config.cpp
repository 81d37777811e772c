#include "model/config.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"

namespace promptlens {
namespace {

using nlohmann::json;

size_t positive_int(const json& j, const char* field, const std::string& source) {
    auto it = j.find(field);
    require(it != j.end(), "{}: missing field \"{}\" (a GPT-2 config.json needs it)", source,
            field);
    require(it->is_number_integer(), "{}: field \"{}\" must be an integer, got {}", source, field,
            it->dump());
    auto v = it->get<long long>();
    require(v > 0, "{}: field \"{}\" must be positive, got {}", source, field, v);
    return static_cast<size_t>(v);
}

// An optional boolean that must have the value this engine implements.
void require_bool(const json& j, const char* field, bool expected, const std::string& source,
                  const char* why) {
    auto it = j.find(field);
    if (it == j.end() || it->is_null()) return;
    require(it->is_boolean(), "{}: field \"{}\" must be true or false, got {}", source, field,
            it->dump());
    require(it->get<bool>() == expected, "{}: \"{}\": {} is not supported ({})", source, field,
            it->get<bool>(), why);
}

}  // namespace

Gpt2Config parse_gpt2_config(const std::string& json_text, const std::string& source) {
    json j;
    try {
        j = json::parse(json_text);
    } catch (const json::parse_error& e) {
        fail("{}: not valid JSON: {}", source, e.what());
    }
    require(j.is_object(), "{}: expected a JSON object, got {}", source, j.type_name());
    if (auto it = j.find("model_type"); it != j.end()) {
        require(it->is_string() && it->get<std::string>() == "gpt2",
                "{}: model_type is {}, expected \"gpt2\"", source, it->dump());
    }
    Gpt2Config c;
    c.n_layer = positive_int(j, "n_layer", source);
    c.n_head = positive_int(j, "n_head", source);
    c.n_embd = positive_int(j, "n_embd", source);
    c.n_positions = positive_int(j, "n_positions", source);
    c.vocab_size = positive_int(j, "vocab_size", source);
    require(c.n_embd % c.n_head == 0, "{}: n_embd {} is not divisible by n_head {}", source,
            c.n_embd, c.n_head);
    c.n_inner = 4 * c.n_embd;
    if (auto it = j.find("n_inner"); it != j.end() && !it->is_null()) {
        c.n_inner = positive_int(j, "n_inner", source);
    }
    if (auto it = j.find("layer_norm_epsilon"); it != j.end()) {
        require(it->is_number(), "{}: field \"layer_norm_epsilon\" must be a number, got {}",
                source, it->dump());
        c.layer_norm_epsilon = it->get<double>();
        require(c.layer_norm_epsilon > 0 && c.layer_norm_epsilon < 1,
                "{}: layer_norm_epsilon {} is outside (0, 1)", source, c.layer_norm_epsilon);
    }
    if (auto it = j.find("activation_function"); it != j.end()) {
        require(it->is_string(), "{}: field \"activation_function\" must be a string, got {}",
                source, it->dump());
        c.activation_function = it->get<std::string>();
        require(c.activation_function == "gelu_new",
                "{}: activation_function \"{}\" is not supported (only \"gelu_new\", GPT-2's "
                "tanh approximation)",
                source, c.activation_function);
    }
    require_bool(j, "scale_attn_weights", true, source, "GPT-2 divides scores by sqrt(head_dim)");
    require_bool(j, "scale_attn_by_inverse_layer_idx", false, source,
                 "per-layer attention scaling is not implemented");
    if (auto it = j.find("tie_word_embeddings"); it != j.end() && !it->is_null()) {
        require(it->is_boolean(), "{}: field \"tie_word_embeddings\" must be true or false, got {}",
                source, it->dump());
        c.tie_word_embeddings = it->get<bool>();
    }
    return c;
}

Gpt2Config read_gpt2_config(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    require(bool(in), "cannot open GPT-2 config {}", path.string());
    std::ostringstream text;
    text << in.rdbuf();
    return parse_gpt2_config(text.str(), path.string());
}

}  // namespace promptlens
