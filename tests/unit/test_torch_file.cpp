// PyTorch checkpoints without Python: the zip reader, the restricted unpickler, torch.save files
// (zip and legacy) and soft prompts, against the golden gpt2-tiny files written by PyTorch 1.13 /
// transformers 4.31. Broken and malicious files are made here with a small stored-zip writer.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/npy.hpp"
#include "model/config.hpp"
#include "model/gpt2_reference.hpp"
#include "model/gpt2_weights.hpp"
#include "model/safetensors.hpp"
#include "model/soft_prompt.hpp"
#include "model/torch_file.hpp"
#include "model/torch_pickle.hpp"
#include "model/zip_reader.hpp"
#include "test_helpers.hpp"

namespace promptlens {
namespace {

namespace fs = std::filesystem;

fs::path tiny(const std::string& name) {
    return test::data_path("gpt2-tiny/" + name);
}

void expect_error(const std::string& message, std::initializer_list<std::string> needles) {
    EXPECT_NE(message, "(no error)");
    for (const auto& n : needles)
        EXPECT_NE(message.find(n), std::string::npos) << "\"" << n << "\" not in: " << message;
}

std::span<const std::byte> as_bytes(const std::string& s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// A minimal ZIP writer (stored entries, as torch.save writes them). `method` lets a test lie.
using Entries = std::vector<std::pair<std::string, std::string>>;
void put(std::string& out, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out += char((v >> (8 * i)) & 0xff);
}
void write_zip(const fs::path& path, const Entries& entries, uint16_t method = 0) {
    std::string out, cd;
    for (const auto& [name, data] : entries) {
        const uint32_t crc = crc32_of(as_bytes(data));
        const size_t offset = out.size();
        put(out, 0x04034b50, 4);
        put(out, 20, 2), put(out, 0, 2), put(out, method, 2), put(out, 0, 4);
        put(out, crc, 4), put(out, data.size(), 4), put(out, data.size(), 4);
        put(out, name.size(), 2), put(out, 0, 2);
        out += name + data;
        put(cd, 0x02014b50, 4);
        put(cd, 20, 2), put(cd, 20, 2), put(cd, 0, 2), put(cd, method, 2), put(cd, 0, 4);
        put(cd, crc, 4), put(cd, data.size(), 4), put(cd, data.size(), 4);
        put(cd, name.size(), 2), put(cd, 0, 2), put(cd, 0, 2), put(cd, 0, 2), put(cd, 0, 2);
        put(cd, 0, 4), put(cd, offset, 4);
        cd += name;
    }
    const size_t cd_offset = out.size();
    out += cd;
    put(out, 0x06054b50, 4);
    put(out, 0, 2), put(out, 0, 2), put(out, entries.size(), 2), put(out, entries.size(), 2);
    put(out, cd.size(), 4), put(out, cd_offset, 4), put(out, 0, 2);
    test::write_bytes(path, out);
}
// The entries of a real archive, to rewrite with changes.
Entries read_entries(const fs::path& path) {
    ZipReader z(path);
    Entries e;
    for (const auto& x : z.entries()) {
        auto d = z.data(x);
        e.emplace_back(x.name, std::string(reinterpret_cast<const char*>(d.data()), d.size()));
    }
    return e;
}

// prompt.npy ([1, 4, 32] float32) as a flat vector.
std::vector<float> golden_prompt() {
    const auto h = read_npy_header(tiny("prompt.npy"));
    EXPECT_EQ(h.shape, (std::vector<size_t>{1, 4, 32}));
    const std::string bytes = test::read_bytes(tiny("prompt.npy"));
    std::vector<float> v(h.count());
    std::memcpy(v.data(), bytes.data() + h.data_offset, v.size() * 4);
    return v;
}

TEST(TorchFile, GoldenPromptsInAllThreeFormatsEqualTheNpyExactly) {
    const auto ref = golden_prompt();
    for (const char* name :
         {"prompt_tensor.pt", "prompt_parameter.pt", "prompt_tensor_legacy.pt"}) {
        const TorchFile f = load_torch_file(tiny(name));
        ASSERT_EQ(f.tensors.size(), 1u) << name;
        EXPECT_TRUE(f.single_tensor) << name;
        EXPECT_EQ(f.legacy, std::string(name).find("legacy") != std::string::npos) << name;
        EXPECT_EQ(f.tensors[0].parameter, std::string(name).find("parameter") != std::string::npos);
        EXPECT_EQ(f.tensors[0].shape, (std::vector<size_t>{1, 4, 32})) << name;
        auto v = f.tensors[0].f32();
        EXPECT_TRUE(std::equal(v.begin(), v.end(), ref.begin(), ref.end())) << name;  // bitwise
        const Matrix m = load_soft_prompt(tiny(name), 32);
        ASSERT_EQ(m.rows(), 4u);
        ASSERT_EQ(m.cols(), 32u);
        EXPECT_EQ(0, std::memcmp(m.data(), ref.data(), ref.size() * 4)) << name;
    }
    EXPECT_EQ(load_torch_file(tiny("prompt_tensor.pt")).archive, "prompt_tensor");
    const Matrix npy = load_soft_prompt(tiny("prompt.npy"), 32);
    EXPECT_EQ(0, std::memcmp(npy.data(), ref.data(), ref.size() * 4));
}

TEST(TorchFile, SoftPromptFromSafetensorsAndShapes) {
    test::TempDir dir;
    const auto ref = golden_prompt();
    auto bytes = std::as_bytes(std::span<const float>(ref));
    std::vector<TensorToWrite> one = {{"prompt", TensorDType::F32, {4, 32}, bytes}};
    write_safetensors(dir / "p.safetensors", one);
    const Matrix m = load_soft_prompt(dir / "p.safetensors", 32);
    EXPECT_EQ(0, std::memcmp(m.data(), ref.data(), ref.size() * 4));
    std::vector<TensorToWrite> two = {{"a", TensorDType::F32, {1, 4, 32}, bytes},
                                      {"b", TensorDType::F32, {2, 64}, bytes}};
    write_safetensors(dir / "two.safetensors", two);
    expect_error(test::error_of([&] { load_soft_prompt(dir / "two.safetensors", 32); }),
                 {"two.safetensors", "2 tensors", "\"a\", \"b\""});
    const Matrix a = load_soft_prompt(dir / "two.safetensors", 32, "a");
    EXPECT_EQ(0, std::memcmp(a.data(), ref.data(), ref.size() * 4));
    // Wrong width names both numbers, for each format.
    expect_error(test::error_of([&] { load_soft_prompt(dir / "two.safetensors", 32, "b"); }),
                 {"width 64", "n_embd 32"});
    for (const char* name : {"prompt.npy", "prompt_tensor.pt", "prompt_tensor_legacy.pt"})
        expect_error(test::error_of([&] { load_soft_prompt(tiny(name), 768); }),
                     {name, "width 32", "[1, 4, 32]", "n_embd 768"});
    std::vector<TensorToWrite> batch = {{"p", TensorDType::F32, {2, 2, 32}, bytes}};
    write_safetensors(dir / "batch.safetensors", batch);
    expect_error(test::error_of([&] { load_soft_prompt(dir / "batch.safetensors", 32); }),
                 {"shape [2, 2, 32]", "expected [1, P, C] or [P, C]"});
    expect_error(test::error_of([&] { load_soft_prompt(dir / "p.txt", 32); }),
                 {"p.txt", "unknown soft prompt file type"});
}

// The tiny model's last hidden state and a few logits after a prompt pass.
std::vector<float> features(const Gpt2Weights& w) {
    const Matrix prompt = load_soft_prompt(tiny("prompt.npy"), w.config.n_embd);
    auto text = reference_text_pass(w, std::vector<int32_t>{464, 3290, 373, 922, 13});
    PromptPassOptions o;
    o.logits = LogitsRequest::selected;
    o.logit_token_ids = {11274, 14774, 922, 2089, 50256};
    auto r = reference_prompt_pass(w, text.cache, prompt, o);
    std::vector<float> out = r.last_hidden;
    out.insert(out.end(), r.logits.begin(), r.logits.end());
    return out;
}

bool same_bits(std::span<const float> a, std::span<const float> b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

TEST(TorchFile, PytorchModelBinGivesTheSafetensorsWeightsBitwise) {
    const TorchFile f = load_torch_file(tiny("pytorch_model.bin"));
    EXPECT_FALSE(f.legacy);
    EXPECT_FALSE(f.single_tensor);
    EXPECT_EQ(f.archive, "pytorch_model");
    EXPECT_EQ(f.tensors.size(), 29u);  // 2 + 12 × 2 + 2 + tied lm_head.weight
    // lm_head.weight and wte share one storage, as in PyTorch.
    EXPECT_EQ(f.get("lm_head.weight").storage, f.get("transformer.wte.weight").storage);

    const auto cfg = read_gpt2_config(tiny("config.json"));
    const Gpt2Weights bin = load_gpt2_weights(f, cfg);
    const Gpt2Weights st = load_gpt2_model(test::data_path("gpt2-tiny"));
    EXPECT_EQ(bin.prefix, "transformer.");
    EXPECT_EQ(bin.converted_tensors, 0u);
    EXPECT_EQ(bin.ignored_tensors, (std::vector<std::string>{"lm_head.weight"}));
    EXPECT_TRUE(same_bits(bin.wte, st.wte));
    EXPECT_TRUE(same_bits(bin.wpe, st.wpe));
    EXPECT_TRUE(same_bits(bin.ln_f_w, st.ln_f_w));
    EXPECT_TRUE(same_bits(bin.ln_f_b, st.ln_f_b));
    EXPECT_TRUE(same_bits(bin.lm_head, st.lm_head));
    ASSERT_EQ(bin.layers.size(), st.layers.size());
    for (size_t l = 0; l < st.layers.size(); ++l) {
        const auto &a = bin.layers[l], &b = st.layers[l];
        for (auto [x, y] : {std::pair{a.ln_1_w, b.ln_1_w},
                            {a.ln_1_b, b.ln_1_b},
                            {a.c_attn_w, b.c_attn_w},
                            {a.c_attn_b, b.c_attn_b},
                            {a.attn_proj_w, b.attn_proj_w},
                            {a.attn_proj_b, b.attn_proj_b},
                            {a.ln_2_w, b.ln_2_w},
                            {a.ln_2_b, b.ln_2_b},
                            {a.fc_w, b.fc_w},
                            {a.fc_b, b.fc_b},
                            {a.mlp_proj_w, b.mlp_proj_w},
                            {a.mlp_proj_b, b.mlp_proj_b}})
            EXPECT_TRUE(same_bits(x, y)) << "layer " << l;
    }
    EXPECT_EQ(features(bin), features(st));  // bitwise

    // A folder with only pytorch_model.bin loads through load_gpt2_model, and the weights outlive
    // the TorchFile they came from.
    test::TempDir dir;
    fs::copy_file(tiny("config.json"), dir / "config.json");
    fs::create_symlink(fs::absolute(tiny("pytorch_model.bin")), dir / "pytorch_model.bin");
    const Gpt2Weights folder = load_gpt2_model(dir.path());
    EXPECT_TRUE(same_bits(folder.wte, st.wte));
    EXPECT_EQ(features(folder), features(st));
}

// A pickle calling module.name("touch <path>"); it must be refused before anything runs.
std::string evil_pickle(const std::string& module, const std::string& name,
                        const std::string& arg) {
    std::string p = "\x80\x02";
    p += "c" + module + "\n" + name + "\n";
    p += "X";
    put(p, arg.size(), 4);
    p += arg;
    p += "\x85R.";
    return p;
}

TEST(TorchFile, MaliciousGlobalsAreRefusedNamingThemAndNothingRuns) {
    test::TempDir dir;
    const fs::path marker = dir / "pwned";
    for (auto [module, name] : {std::pair{"os", "system"},
                                {"builtins", "eval"},
                                {"posix", "system"},
                                {"torch", "load"}}) {
        const std::string payload = evil_pickle(module, name, "touch " + marker.string());
        const std::string full = std::string(module) + "." + name;
        expect_error(test::error_of([&] { unpickle(as_bytes(payload), "evil.pkl"); }),
                     {"evil.pkl", "refusing pickle global \"" + full + "\""});
        write_zip(dir / "evil.pt", {{"archive/data.pkl", payload}});
        expect_error(test::error_of([&] { load_torch_file(dir / "evil.pt"); }),
                     {"evil.pt", "archive/data.pkl", "\"" + full + "\"", "nothing was"});
        expect_error(test::error_of([&] { load_soft_prompt(dir / "evil.pt", 32); }),
                     {"\"" + full + "\""});
        EXPECT_FALSE(fs::exists(marker));
    }
    // The same via STACK_GLOBAL (protocol 4).
    std::string p4 = "\x80\x04\x8c\x02os\x8c\x06system\x93";
    expect_error(test::error_of([&] { unpickle(as_bytes(p4), "p4.pkl"); }), {"\"os.system\""});
    // An allowed name used as a persistent id is still checked.
    expect_error(
        test::error_of([&] { unpickle(as_bytes(std::string("\x80\x02K\x01Q.", 6)), "x"); }),
        {"persistent id", "('storage'"});
}

TEST(TorchFile, BrokenFilesGiveClearErrors) {
    test::TempDir dir;
    const std::string bin = test::read_bytes(tiny("pytorch_model.bin"));
    // Truncated anywhere: the end record is gone.
    test::write_bytes(dir / "half.bin", bin.substr(0, bin.size() / 2));
    expect_error(test::error_of([&] { load_torch_file(dir / "half.bin"); }),
                 {"half.bin", "no zip end-of-central-directory record", "truncated"});
    // A damaged storage (one flipped byte) fails its CRC.
    std::string flipped = bin;
    flipped[bin.size() / 2] ^= 0x10;
    test::write_bytes(dir / "flip.bin", flipped);
    expect_error(test::error_of([&] { load_torch_file(dir / "flip.bin"); }),
                 {"flip.bin", "fails its CRC-32 check"});

    auto entries = read_entries(tiny("prompt_tensor.pt"));
    ASSERT_EQ(entries[0].first, "prompt_tensor/data.pkl");
    // A missing storage record.
    Entries no_storage = {entries[0], entries[2]};
    write_zip(dir / "nostorage.pt", no_storage);
    expect_error(test::error_of([&] { load_torch_file(dir / "nostorage.pt"); }),
                 {"nostorage.pt", "missing storage record \"prompt_tensor/data/0\"", "128"});
    // A storage record shorter than the pickle says.
    Entries short_storage = entries;
    short_storage[1].second.resize(256);
    write_zip(dir / "short.pt", short_storage);
    expect_error(test::error_of([&] { load_torch_file(dir / "short.pt"); }),
                 {"short.pt", "should hold 512 bytes but its record has 256"});
    // A corrupt pickle: cut short, and an unknown opcode.
    Entries cut = entries;
    cut[0].second.resize(60);
    write_zip(dir / "cut.pt", cut);
    expect_error(test::error_of([&] { load_torch_file(dir / "cut.pt"); }),
                 {"cut.pt", "pickle truncated"});
    cut[0].second = entries[0].second.substr(0, 100);  // inside a BININT1
    write_zip(dir / "cut.pt", cut);
    expect_error(test::error_of([&] { load_torch_file(dir / "cut.pt"); }),
                 {"cut.pt", "pickle truncated: 1 bytes needed at offset 100"});
    Entries bad = entries;
    bad[0].second[2] = '\xff';
    write_zip(dir / "bad.pt", bad);
    expect_error(test::error_of([&] { load_torch_file(dir / "bad.pt"); }),
                 {"bad.pt", "unsupported pickle opcode 0xff at offset 2"});
    expect_error(test::error_of([&] { unpickle(as_bytes(std::string("\x80\x02h\x05.", 5)), "m"); }),
                 {"memo 5 which was never stored"});
    // Compressed entries are refused, never inflated.
    write_zip(dir / "deflate.pt", entries, 8);
    expect_error(test::error_of([&] { load_torch_file(dir / "deflate.pt"); }),
                 {"deflate.pt", "compressed (method 8, deflate)", "only stored entries"});
    // Neither zip nor legacy.
    test::write_bytes(dir / "junk.pt", "hello world");
    expect_error(test::error_of([&] { load_torch_file(dir / "junk.pt"); }),
                 {"junk.pt", "not a PyTorch file"});
    // A zip that is not a torch file.
    write_zip(dir / "other.zip", {{"readme.txt", "hi"}});
    expect_error(test::error_of([&] { load_torch_file(dir / "other.zip"); }),
                 {"other.zip", "without <archive>/data.pkl"});
    // Legacy, truncated inside the storage records.
    const std::string legacy = test::read_bytes(tiny("prompt_tensor_legacy.pt"));
    test::write_bytes(dir / "legacy_cut.pt", legacy.substr(0, legacy.size() - 100));
    expect_error(test::error_of([&] { load_torch_file(dir / "legacy_cut.pt"); }),
                 {"legacy_cut.pt", "storage record \"939292480\"", "truncated"});
    test::write_bytes(dir / "legacy_nostorage.pt", legacy.substr(0, 327));
    expect_error(test::error_of([&] { load_torch_file(dir / "legacy_nostorage.pt"); }),
                 {"missing storage record \"939292480\""});
}

// Hand-built pickles for the cases the golden files do not cover: strides, offsets, dtypes.
std::string tensor_pickle(const std::string& storage_type, int numel, int offset,
                          std::vector<int> shape, std::vector<int> stride) {
    std::string p = "\x80\x02}(X";
    put(p, 1, 4);
    p += "tctorch._utils\n_rebuild_tensor_v2\n((X";
    put(p, 7, 4);
    p += "storagectorch\n" + storage_type + "\nX";
    put(p, 1, 4);
    p += "0X";
    put(p, 3, 4);
    p += "cpuM";
    put(p, numel, 2);
    p += "tQK";
    put(p, offset, 1);
    p += "(";
    for (int s : shape) p.append({'K', char(s)});
    p += "t(";
    for (int s : stride) p.append({'K', char(s)});
    p += "t\x89}tRX";  // requires_grad False, hooks {} (a plain dict here)
    put(p, 5, 4);
    p += "epochK\x07u.";
    return p;
}

TEST(TorchFile, OffsetsStridesAndDtypes) {
    test::TempDir dir;
    std::string data(12 * 2, '\0');
    for (int i = 0; i < 12; ++i) {
        uint16_t h = float_to_half(float(i));
        std::memcpy(data.data() + 2 * i, &h, 2);
    }
    // A [2, 3] view at offset 4 of a 12-element half storage.
    write_zip(dir / "h.pt", {{"a/data.pkl", tensor_pickle("HalfStorage", 12, 4, {2, 3}, {3, 1})},
                             {"a/data/0", data}});
    const TorchFile f = load_torch_file(dir / "h.pt");
    ASSERT_EQ(f.tensors.size(), 1u);
    EXPECT_EQ(f.ignored, (std::vector<std::string>{"epoch (int)"}));
    EXPECT_EQ(f.get("t").dtype, TensorDType::F16);
    auto v = f.get("t").f32();
    EXPECT_EQ(std::vector<float>(v.begin(), v.end()), (std::vector<float>{4, 5, 6, 7, 8, 9}));
    // torch.save(module.state_dict()): the OrderedDict carries _metadata, set by BUILD.
    std::string sd =
        "\x80\x02"
        "ccollections\nOrderedDict\n)R"
        "X";
    put(sd, 1, 4);
    sd += "aK\x07s}X";
    put(sd, 9, 4);
    sd += "_metadata}X";
    put(sd, 0, 4);
    sd += "}X";
    put(sd, 7, 4);
    sd += "versionK\x01sssb.";
    auto meta = unpickle(as_bytes(sd), "sd.pkl").value;
    ASSERT_EQ(meta->kind, PyValue::Kind::Dict);
    ASSERT_EQ(meta->dict.size(), 1u);
    EXPECT_EQ(meta->dict[0].first->s, "a");
    // Transposed: refused with the strides.
    write_zip(dir / "t.pt", {{"a/data.pkl", tensor_pickle("HalfStorage", 12, 0, {3, 2}, {1, 3})},
                             {"a/data/0", data}});
    expect_error(test::error_of([&] { load_torch_file(dir / "t.pt"); }),
                 {"t.pt", "\"t\"", "shape [3, 2]", "strides [1, 3]", "contiguous"});
    // Past the end of the storage.
    write_zip(dir / "o.pt", {{"a/data.pkl", tensor_pickle("HalfStorage", 12, 8, {2, 3}, {3, 1})},
                             {"a/data/0", data}});
    expect_error(test::error_of([&] { load_torch_file(dir / "o.pt"); }),
                 {"o.pt", "runs past its storage"});
    // Integer tensors load but are not floats.
    write_zip(dir / "i.pt", {{"a/data.pkl", tensor_pickle("LongStorage", 3, 0, {3}, {1})},
                             {"a/data/0", std::string(24, '\1')}});
    const TorchFile fi = load_torch_file(dir / "i.pt");
    EXPECT_EQ(fi.get("t").dtype, TensorDType::I64);
    expect_error(test::error_of([&] { (void)fi.get("t").f32(); }), {"\"t\"", "I64"});
    EXPECT_EQ(fi.get("t").storage->raw.size(), 24u);
}

}  // namespace
}  // namespace promptlens
