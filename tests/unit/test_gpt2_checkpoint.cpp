// GPT-2 checkpoints: config.json parsing, the safetensors reader (zero-copy float32, float16 and
// bfloat16 conversion, broken files) and binding the weights (prefix, buffers, tied lm_head,
// shapes against the config). Broken files are made by rewriting the tiny model in a temp dir.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>

#include "core/error.hpp"
#include "model/config.hpp"
#include "model/gpt2_reference.hpp"
#include "model/gpt2_weights.hpp"
#include "model/safetensors.hpp"
#include "test_helpers.hpp"

namespace promptlens {
namespace {

namespace fs = std::filesystem;

template <class Fn>
void expect_error(Fn&& fn, std::initializer_list<std::string> needles) {
    try {
        fn();
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        for (const auto& n : needles)
            EXPECT_NE(std::string(e.what()).find(n), std::string::npos)
                << "\"" << n << "\" not in: " << e.what();
    }
}

fs::path tiny_dir() {
    return test::data_path("gpt2-tiny");
}
std::string tiny_config_text() {
    return test::read_bytes(tiny_dir() / "config.json");
}

// The tiny model's tensors, renamed / converted / filtered by `edit`, written to `path`.
struct Rewritten {
    std::vector<std::string> names;
    std::vector<TensorDType> dtypes;
    std::vector<std::vector<size_t>> shapes;
    std::vector<std::vector<std::byte>> data;
};
Rewritten tiny_tensors() {
    SafetensorsFile f(tiny_dir() / "model.safetensors");
    Rewritten r;
    for (const auto& t : f.tensors()) {
        r.names.push_back(t.name);
        r.dtypes.push_back(t.dtype);
        r.shapes.push_back(t.shape);
        auto b = f.bytes(t);
        r.data.emplace_back(b.begin(), b.end());
    }
    return r;
}
void write(const fs::path& path, const Rewritten& r) {
    std::vector<TensorToWrite> ts;
    for (size_t i = 0; i < r.names.size(); ++i)
        ts.push_back({r.names[i], r.dtypes[i], r.shapes[i], r.data[i]});
    write_safetensors(path, ts);
}
// Converts every F32 tensor to 16-bit storage with `conv`.
void to_16bit(Rewritten& r, TensorDType dt, uint16_t (*conv)(float)) {
    for (size_t i = 0; i < r.names.size(); ++i) {
        std::vector<std::byte> out(r.data[i].size() / 2);
        for (size_t j = 0; j < out.size() / 2; ++j) {
            float x;
            std::memcpy(&x, r.data[i].data() + 4 * j, 4);
            uint16_t h = conv(x);
            std::memcpy(out.data() + 2 * j, &h, 2);
        }
        r.data[i] = std::move(out);
        r.dtypes[i] = dt;
    }
}
std::vector<float> tiny_features(const Gpt2Weights& w) {
    auto text = reference_text_pass(w, std::vector<int32_t>{464, 3290, 50256, 922, 13});
    Matrix p(4, w.config.n_embd);
    for (size_t i = 0; i < p.size(); ++i) p.data()[i] = float(std::sin(0.37 * double(i)));
    return reference_prompt_pass(w, text.cache, p).last_hidden;
}

// ---- config.json ---------------------------------------------------------------------------

TEST(Gpt2Config, ReadsTheTinyModel) {
    auto c = read_gpt2_config(tiny_dir() / "config.json");
    EXPECT_EQ(c.n_layer, 2u);
    EXPECT_EQ(c.n_head, 2u);
    EXPECT_EQ(c.n_embd, 32u);
    EXPECT_EQ(c.n_positions, 64u);
    EXPECT_EQ(c.vocab_size, 50257u);
    EXPECT_EQ(c.n_inner, 128u);  // "n_inner": null → 4 * n_embd
    EXPECT_DOUBLE_EQ(c.layer_norm_epsilon, 1e-5);
    EXPECT_EQ(c.head_dim(), 16u);
    EXPECT_TRUE(c.tie_word_embeddings);
}

TEST(Gpt2Config, BrokenFieldsAreNamed) {
    auto edited = [](const std::string& from, const std::string& to) {
        std::string s = tiny_config_text();
        auto at = s.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        return s.replace(at, from.size(), to);
    };
    expect_error([&] { parse_gpt2_config(edited("\"n_embd\": 32,", ""), "cfg.json"); },
                 {"cfg.json", "missing field \"n_embd\""});
    expect_error([&] { parse_gpt2_config(edited("\"n_head\": 2", "\"n_head\": \"2\""), "c"); },
                 {"\"n_head\" must be an integer"});
    expect_error([&] { parse_gpt2_config(edited("\"n_layer\": 2", "\"n_layer\": 0"), "c"); },
                 {"\"n_layer\" must be positive, got 0"});
    expect_error([&] { parse_gpt2_config(edited("\"n_head\": 2", "\"n_head\": 5"), "c"); },
                 {"n_embd 32 is not divisible by n_head 5"});
    expect_error([&] { parse_gpt2_config(edited("\"gelu_new\"", "\"relu\""), "c"); },
                 {"activation_function \"relu\" is not supported"});
    expect_error([&] { parse_gpt2_config(edited("\"gpt2\"", "\"llama\""), "c"); },
                 {"model_type is \"llama\""});
    expect_error(
        [&] {
            parse_gpt2_config(edited("\"scale_attn_by_inverse_layer_idx\": false",
                                     "\"scale_attn_by_inverse_layer_idx\": true"),
                              "c");
        },
        {"scale_attn_by_inverse_layer_idx"});
    expect_error([&] { parse_gpt2_config("{\"n_layer\": 2,", "c"); }, {"not valid JSON"});
    expect_error([&] { parse_gpt2_config("[1]", "c"); }, {"expected a JSON object"});
    expect_error([&] { read_gpt2_config("/nonexistent/config.json"); },
                 {"cannot open", "/nonexistent/config.json"});
    EXPECT_EQ(parse_gpt2_config(edited("\"n_inner\": null", "\"n_inner\": 96"), "c").n_inner, 96u);
}

// ---- safetensors ---------------------------------------------------------------------------

TEST(Safetensors, Float16AndBfloat16ConvertExactly) {
    EXPECT_EQ(half_to_float(0x3c00), 1.0f);
    EXPECT_EQ(half_to_float(0xc000), -2.0f);
    EXPECT_EQ(half_to_float(0x7bff), 65504.0f);
    EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
    EXPECT_EQ(half_to_float(0x3555), 0.333251953125f);
    EXPECT_TRUE(std::isinf(half_to_float(0x7c00)));
    EXPECT_TRUE(std::isnan(half_to_float(0x7e00)));
    EXPECT_EQ(bf16_to_float(0x3f80), 1.0f);
    EXPECT_EQ(bf16_to_float(0xc0a0), -5.0f);
    // float → 16 bit rounds to nearest even, and every 16-bit pattern survives a round trip.
    for (uint32_t h = 0; h < 0x10000; ++h) {
        float f = half_to_float(uint16_t(h));
        if (!std::isnan(f)) {
            ASSERT_EQ(float_to_half(f), h) << h;
        }
        float g = bf16_to_float(uint16_t(h));
        if (!std::isnan(g)) {
            ASSERT_EQ(float_to_bf16(g), h) << h;
        }
    }
    EXPECT_EQ(float_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);  // tie → even
    EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
}

TEST(Safetensors, TinyModelIsMappedWithoutCopies) {
    SafetensorsFile f(tiny_dir() / "model.safetensors");
    EXPECT_EQ(f.tensors().size(), 4u + 12u * 2u);
    const auto& wte = f.get("wte.weight");
    EXPECT_EQ(wte.shape, (std::vector<size_t>{50257, 32}));
    EXPECT_EQ(wte.dtype, TensorDType::F32);
    auto view = f.f32_view(wte);
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(static_cast<const void*>(view->data()),
              static_cast<const void*>(f.bytes(wte).data()));
    auto w = load_gpt2_model(tiny_dir());
    EXPECT_EQ(w.converted_tensors, 0u);
    EXPECT_EQ(w.prefix, "");
    EXPECT_TRUE(w.ignored_tensors.empty());
    EXPECT_EQ(w.lm_head.data(), w.wte.data());  // tied
    expect_error([&] { f.get("lm_head.weight"); }, {"model.safetensors", "\"lm_head.weight\""});
}

TEST(Safetensors, TruncatedFileIsRefused) {
    test::TempDir dir;
    std::string bytes = test::read_bytes(tiny_dir() / "model.safetensors");
    test::write_bytes(dir / "cut.safetensors", bytes.substr(0, bytes.size() - 1000));
    expect_error([&] { SafetensorsFile f(dir / "cut.safetensors"); },
                 {"cut.safetensors", "lie outside", "truncated"});
    test::write_bytes(dir / "stub.safetensors", bytes.substr(0, 100));  // cut inside the header
    expect_error([&] { SafetensorsFile f(dir / "stub.safetensors"); },
                 {"stub.safetensors", "header length 2256 runs past the end"});
    test::write_bytes(dir / "tiny.safetensors", "abc");
    expect_error([&] { SafetensorsFile f(dir / "tiny.safetensors"); }, {"3 bytes is too short"});
    expect_error([&] { SafetensorsFile f(dir / "absent.safetensors"); },
                 {"cannot open", "absent.safetensors"});
}

// A file with one tensor "x" and the given header JSON (padded), followed by `data_bytes` bytes.
std::string file_with_header(const std::string& header, size_t data_bytes) {
    uint64_t n = header.size();
    std::string s(reinterpret_cast<const char*>(&n), 8);
    return s + header + std::string(data_bytes, '\0');
}

TEST(Safetensors, HeadersThatLieAreRefused) {
    test::TempDir dir;
    auto check = [&](const std::string& header, size_t data, std::initializer_list<std::string> n) {
        test::write_bytes(dir / "bad.safetensors", file_with_header(header, data));
        expect_error([&] { SafetensorsFile f(dir / "bad.safetensors"); }, n);
    };
    check(R"({"x": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}})", 24,
          {"bad.safetensors", "tensor \"x\"", "F32 [2, 3] needs 24 bytes", "give 20"});
    check(R"({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
              "y": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
          12, {"\"x\" and \"y\" overlap"});
    check(R"({"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 8,
          {"tensor \"x\"", "[0, 16]", "8 data bytes"});
    check(R"({"x": {"dtype": "Q4", "shape": [4], "data_offsets": [0, 2]}})", 2,
          {"unsupported dtype \"Q4\""});
    check(R"({"x": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4,
          {"bad dimension"});
    check(R"({"x": {"dtype": "F32", "shape": [1]}})", 4, {"data_offsets must be [begin, end]"});
    check(R"({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]})", 4,
          {"header is not valid JSON"});
    // A length field that claims far more header than the file holds.
    std::string lying = file_with_header("{}", 0);
    lying[5] = 1;
    test::write_bytes(dir / "len.safetensors", lying);
    expect_error([&] { SafetensorsFile f(dir / "len.safetensors"); }, {"runs past the end"});
    // Integer tensors are indexed but cannot be read as float.
    test::write_bytes(
        dir / "int.safetensors",
        file_with_header(R"({"i": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}})", 8));
    SafetensorsFile ints(dir / "int.safetensors");
    expect_error([&] { ints.read_f32(ints.get("i")); }, {"dtype I64", "floating tensor"});
}

// ---- weights ---------------------------------------------------------------------------------

TEST(Gpt2Weights, MissingTensorAndWrongShapeAreNamed) {
    test::TempDir dir;
    auto cfg = read_gpt2_config(tiny_dir() / "config.json");
    auto r = tiny_tensors();
    Rewritten missing = r;
    for (size_t i = 0; i < missing.names.size(); ++i) {
        if (missing.names[i] == "h.1.mlp.c_fc.bias") {
            missing.names.erase(missing.names.begin() + long(i));
            missing.dtypes.erase(missing.dtypes.begin() + long(i));
            missing.shapes.erase(missing.shapes.begin() + long(i));
            missing.data.erase(missing.data.begin() + long(i));
        }
    }
    write(dir / "missing.safetensors", missing);
    expect_error(
        [&] {
            load_gpt2_weights(std::make_shared<SafetensorsFile>(dir / "missing.safetensors"), cfg);
        },
        {"missing.safetensors", "missing tensor \"h.1.mlp.c_fc.bias\"", "[128]"});
    fs::copy_file(tiny_dir() / "config.json", dir / "config.json");  // config but no weights
    expect_error([&] { load_gpt2_model(dir.path()); },
                 {dir.path().string(), "no model.safetensors", "pytorch_model.bin"});
    // The same file against a config that says something else.
    auto wide = cfg;
    wide.n_positions = 128;
    expect_error(
        [&] {
            load_gpt2_weights(std::make_shared<SafetensorsFile>(tiny_dir() / "model.safetensors"),
                              wide);
        },
        {"\"wpe.weight\" has shape [64, 32]", "needs [128, 32]"});
    auto deep = cfg;
    deep.n_layer = 3;
    expect_error(
        [&] {
            load_gpt2_weights(std::make_shared<SafetensorsFile>(tiny_dir() / "model.safetensors"),
                              deep);
        },
        {"missing tensor \"h.2.ln_1.weight\""});
    // An untied head must be present.
    auto untied = cfg;
    untied.tie_word_embeddings = false;
    expect_error(
        [&] {
            load_gpt2_weights(std::make_shared<SafetensorsFile>(tiny_dir() / "model.safetensors"),
                              untied);
        },
        {"tie_word_embeddings false", "\"lm_head.weight\""});
}

TEST(Gpt2Weights, TransformerPrefixBuffersAndTiedHeadGiveTheSameModel) {
    test::TempDir dir;
    auto r = tiny_tensors();
    Rewritten hf = r;  // as save_pretrained writes it
    for (auto& n : hf.names) n = "transformer." + n;
    std::vector<std::byte> mask(64 * 64 * 4);
    for (int l = 0; l < 2; ++l) {
        hf.names.push_back("transformer.h." + std::to_string(l) + ".attn.bias");
        hf.dtypes.push_back(TensorDType::F32);
        hf.shapes.push_back({1, 1, 64, 64});
        hf.data.push_back(mask);
    }
    for (size_t i = 0; i < r.names.size(); ++i) {
        if (r.names[i] != "wte.weight") continue;
        hf.names.push_back("lm_head.weight");
        hf.dtypes.push_back(TensorDType::F32);
        hf.shapes.push_back(r.shapes[i]);
        hf.data.push_back(r.data[i]);
    }
    fs::create_directory(dir / "m");
    write(dir / "m/model.safetensors", hf);
    fs::copy_file(tiny_dir() / "config.json", dir / "m/config.json");
    auto w = load_gpt2_model(dir / "m");
    EXPECT_EQ(w.prefix, "transformer.");
    EXPECT_EQ(w.converted_tensors, 0u);
    EXPECT_EQ(w.ignored_tensors,
              (std::vector<std::string>{"lm_head.weight", "transformer.h.0.attn.bias",
                                        "transformer.h.1.attn.bias"}));
    EXPECT_EQ(tiny_features(w), tiny_features(load_gpt2_model(tiny_dir())));  // bitwise
}

TEST(Gpt2Weights, Float16AndBfloat16CheckpointsAreConvertedOnLoad) {
    test::TempDir dir;
    const auto ref = load_gpt2_model(tiny_dir());
    const auto f32 = tiny_features(ref);
    struct Case {
        const char* name;
        TensorDType dt;
        uint16_t (*to)(float);
        float (*from)(uint16_t);
        double bound;  // on the features; about 4× the measured worst (see below)
    };
    // Measured on these weights: max |Δ| of the last hidden state ≈ 1.5e-3 (f16) and 1.2e-2
    // (bf16) — the weights themselves carry relative errors 2^-11 and 2^-8.
    for (const Case& c : {Case{"f16", TensorDType::F16, float_to_half, half_to_float, 6e-3},
                          Case{"bf16", TensorDType::BF16, float_to_bf16, bf16_to_float, 5e-2}}) {
        auto r = tiny_tensors();
        to_16bit(r, c.dt, c.to);
        fs::create_directory(dir / c.name);
        write(dir / c.name / "model.safetensors", r);
        fs::copy_file(tiny_dir() / "config.json", dir / c.name / "config.json");
        auto loaded = std::make_unique<Gpt2Weights>(load_gpt2_model(dir / c.name));
        const Gpt2Weights w =
            *loaded;  // a copy outlives the original: converted buffers are shared
        loaded.reset();
        EXPECT_EQ(w.converted_tensors, r.names.size()) << c.name;
        // Each weight is exactly the 16-bit rounding of the float32 one.
        for (size_t i = 0; i < ref.wpe.size(); ++i)
            ASSERT_EQ(w.wpe[i], c.from(c.to(ref.wpe[i]))) << c.name << " wpe " << i;
        auto got = tiny_features(w);
        double worst = 0;
        for (size_t i = 0; i < got.size(); ++i)
            worst = std::max(worst, std::fabs(double(got[i]) - f32[i]));
        std::cout << "[ " << c.name << " ] features max|diff| vs float32 weights = " << worst
                  << "\n";
        EXPECT_LT(worst, c.bound) << c.name;
    }
}

}  // namespace
}  // namespace promptlens
