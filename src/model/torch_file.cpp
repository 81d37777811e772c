#include "model/torch_file.hpp"

#include <cstring>
#include <fstream>
#include <functional>
#include <map>

#include "core/error.hpp"
#include "model/torch_pickle.hpp"
#include "model/zip_reader.hpp"

namespace promptlens {

size_t TorchTensor::count() const {
    size_t n = 1;
    for (size_t d : shape) n *= d;
    return n;
}

bool TorchTensor::is_floating() const {
    return dtype == TensorDType::F32 || dtype == TensorDType::F16 || dtype == TensorDType::BF16 ||
           dtype == TensorDType::F64;
}

std::span<const float> TorchTensor::f32() const {
    require(is_floating() && storage && storage->f32,
            "tensor \"{}\" has dtype {}; a floating tensor (F32/F16/BF16/F64) is needed", name,
            tensor_dtype_name(dtype));
    return std::span<const float>(*storage->f32).subspan(offset, count());
}

const TorchTensor* TorchFile::find(const std::string& name) const {
    for (const auto& t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

const TorchTensor& TorchFile::get(const std::string& name) const {
    const TorchTensor* t = find(name);
    require(t != nullptr, "{}: no tensor \"{}\" (the file has {} tensors)", path.string(), name,
            tensors.size());
    return *t;
}

namespace {

using Kind = PyValue::Kind;

// Raw little-endian storage bytes → TorchStorage (floating types held as float32).
std::shared_ptr<TorchStorage> make_storage(const PickledStorage& s, std::span<const std::byte> b) {
    auto st = std::make_shared<TorchStorage>();
    st->key = s.key;
    st->dtype = s.dtype;
    st->numel = size_t(s.numel);
    const size_t n = st->numel;
    auto out = std::make_shared<std::vector<float>>();
    switch (s.dtype) {
        case TensorDType::F32:
            out->resize(n);
            if (n) std::memcpy(out->data(), b.data(), n * 4);
            break;
        case TensorDType::F16:
        case TensorDType::BF16:
            out->resize(n);
            for (size_t i = 0; i < n; ++i) {
                uint16_t h;
                std::memcpy(&h, b.data() + 2 * i, 2);
                (*out)[i] = s.dtype == TensorDType::F16 ? half_to_float(h) : bf16_to_float(h);
            }
            break;
        case TensorDType::F64:
            out->resize(n);
            for (size_t i = 0; i < n; ++i) {
                double d;
                std::memcpy(&d, b.data() + 8 * i, 8);
                (*out)[i] = float(d);
            }
            break;
        default:
            st->raw.assign(b.begin(), b.begin() + long(n * tensor_dtype_size(s.dtype)));
            return st;
    }
    st->f32 = std::move(out);
    return st;
}

class Builder {
  public:
    Builder(TorchFile& f, std::function<std::span<const std::byte>(const PickledStorage&)> fetch)
        : f_(f), fetch_(std::move(fetch)) {}

    void walk(const PyPtr& v, const std::string& name, int depth) {
        require(depth < 16, "{}: dicts nested more than 16 deep", f_.path.string());
        if (v->kind == Kind::Tensor) {
            f_.tensors.push_back(tensor(v->tensor, name));
        } else if (v->kind == Kind::Dict) {
            for (const auto& [k, x] : v->dict) {
                std::string key = k->kind == Kind::String ? k->s
                                  : k->kind == Kind::Int  ? std::to_string(k->i)
                                                          : std::string("<") + k->kind_name() + ">";
                walk(x, name.empty() ? key : name + "." + key, depth + 1);
            }
        } else {
            f_.ignored.push_back(
                fmt::format("{} ({})", name.empty() ? "<root>" : name, v->kind_name()));
        }
    }

  private:
    TorchFile& f_;
    std::function<std::span<const std::byte>(const PickledStorage&)> fetch_;
    std::map<std::string, std::shared_ptr<const TorchStorage>> storages_;

    TorchTensor tensor(const PickledTensor& p, const std::string& name) {
        const std::string file = f_.path.string();
        auto it = storages_.find(p.storage.key);
        if (it == storages_.end()) {
            auto bytes = fetch_(p.storage);
            const uint64_t want = p.storage.numel * tensor_dtype_size(p.storage.dtype);
            require(bytes.size() == want,
                    "{}: storage \"{}\" ({} × {}) should hold {} bytes but its record has {}", file,
                    p.storage.key, p.storage.numel, p.storage.type_name, want, bytes.size());
            it = storages_.emplace(p.storage.key, make_storage(p.storage, bytes)).first;
        }
        require(it->second->dtype == p.storage.dtype,
                "{}: storage \"{}\" is used as two different types", file, p.storage.key);
        TorchTensor t;
        t.name = name;
        t.dtype = p.storage.dtype;
        t.storage = it->second;
        t.offset = size_t(p.offset);
        t.parameter = p.parameter;
        t.shape.assign(p.shape.begin(), p.shape.end());
        // Contiguous (C order) only; the stride of a size-1 dimension does not matter.
        uint64_t expect = 1;
        bool contiguous = true;
        for (size_t d = p.shape.size(); d-- > 0;) {
            if (p.shape[d] != 1 && p.stride[d] != expect) contiguous = false;
            expect *= p.shape[d];
        }
        std::vector<size_t> stride(p.stride.begin(), p.stride.end());
        require(contiguous,
                "{}: tensor \"{}\" (shape {}) has strides {}; only contiguous tensors are "
                "supported (save it with .contiguous())",
                file, name, shape_string(t.shape), shape_string(stride));
        const size_t n = t.count();
        require(n == 0 || (t.offset <= t.storage->numel && n <= t.storage->numel - t.offset),
                "{}: tensor \"{}\" (shape {}, offset {}) runs past its storage \"{}\" of {} "
                "elements",
                file, name, shape_string(t.shape), t.offset, p.storage.key, t.storage->numel);
        return t;
    }
};

void finish(TorchFile& f, const PyPtr& root,
            std::function<std::span<const std::byte>(const PickledStorage&)> fetch) {
    require(root->kind == Kind::Tensor || root->kind == Kind::Dict,
            "{}: the file holds a {}, not a tensor or a state dict", f.path.string(),
            root->kind_name());
    f.single_tensor = root->kind == Kind::Tensor;
    Builder(f, std::move(fetch)).walk(root, "", 0);
}

void load_zip(TorchFile& f) {
    ZipReader z(f.path);
    const std::string file = f.path.string();
    const ZipEntry* pkl = nullptr;
    for (const auto& e : z.entries()) {
        const std::string suffix = "/data.pkl";
        if (e.name.size() > suffix.size() &&
            e.name.compare(e.name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
            e.name.find('/') == e.name.size() - suffix.size()) {
            pkl = &e;
            break;
        }
    }
    require(pkl != nullptr,
            "{}: a zip archive without <archive>/data.pkl ({} entries); not a torch.save file",
            file, z.entries().size());
    f.archive = pkl->name.substr(0, pkl->name.size() - 9);
    if (const ZipEntry* bo = z.find(f.archive + "/byteorder")) {
        auto b = z.data(*bo);
        std::string order(reinterpret_cast<const char*>(b.data()), b.size());
        require(order == "little", "{}: byteorder \"{}\" is not supported (little-endian only)",
                file, order);
    }
    auto root = unpickle(z.data(*pkl), file + ":" + pkl->name).value;
    finish(f, root, [&](const PickledStorage& s) {
        const std::string entry = f.archive + "/data/" + s.key;
        const ZipEntry* e = z.find(entry);
        require(e != nullptr, "{}: missing storage record \"{}\" (storage {} of {} × {})", file,
                entry, s.key, s.numel, s.type_name);
        return z.data(*e);
    });
}

void load_legacy(TorchFile& f, std::span<const std::byte> all) {
    const std::string file = f.path.string();
    size_t pos = 0;
    auto next = [&](const char* what) {
        auto r = unpickle(all.subspan(pos), file + " (legacy " + what + ")");
        pos += r.consumed;
        return r.value;
    };
    auto magic = next("magic number");
    static const unsigned char kMagic[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                           0x20, 0x6a, 0xa8, 0x50, 0x19};
    require(magic->kind == Kind::BigInt && magic->s.size() == sizeof kMagic &&
                std::memcmp(magic->s.data(), kMagic, sizeof kMagic) == 0,
            "{}: not a PyTorch file (no zip header and no legacy magic number)", file);
    auto version = next("protocol version");
    require(version->kind == Kind::Int && version->i == 1001,
            "{}: legacy protocol version {} (only 1001 is supported)", file,
            version->kind == Kind::Int ? version->i : -1);
    auto sys = next("sys_info");
    for (const auto& [k, v] : sys->dict)
        if (k->kind == Kind::String && k->s == "little_endian")
            require(v->kind == Kind::Bool && v->b, "{}: written big-endian; not supported", file);
    auto root = next("object");
    auto keys = next("storage keys");
    require(keys->kind == Kind::List, "{}: legacy storage key list is a {}", file,
            keys->kind_name());
    // Storage types come from the object pickle; collect them first.
    std::map<std::string, PickledStorage> types;
    std::function<void(const PyPtr&)> collect = [&](const PyPtr& v) {
        if (v->kind == Kind::Tensor) types[v->tensor.storage.key] = v->tensor.storage;
        for (const auto& x : v->items) collect(x);
        for (const auto& kv : v->dict) collect(kv.second);
    };
    collect(root);
    std::map<std::string, std::span<const std::byte>> records;
    for (const auto& k : keys->items) {
        require(k->kind == Kind::String, "{}: legacy storage key is a {}", file, k->kind_name());
        auto t = types.find(k->s);
        require(t != types.end(), "{}: legacy storage \"{}\" is not used by any tensor", file,
                k->s);
        require(all.size() - pos >= 8,
                "{}: missing storage record \"{}\": the file ends at byte {} (truncated)", file,
                k->s, all.size());
        uint64_t n = 0;
        std::memcpy(&n, all.data() + pos, 8);
        pos += 8;
        const size_t es = tensor_dtype_size(t->second.dtype);
        require(n <= (all.size() - pos) / es,
                "{}: storage record \"{}\" announces {} × {} but only {} bytes are left "
                "(truncated)",
                file, k->s, n, t->second.type_name, all.size() - pos);
        records[k->s] = all.subspan(pos, size_t(n) * es);
        pos += size_t(n) * es;
    }
    finish(f, root, [&](const PickledStorage& s) {
        auto r = records.find(s.key);
        require(r != records.end(), "{}: missing storage record \"{}\" ({} × {})", file, s.key,
                s.numel, s.type_name);
        return r->second;
    });
}

}  // namespace

TorchFile load_torch_file(const std::filesystem::path& path) {
    TorchFile f;
    f.path = path;
    const std::string file = path.string();
    std::ifstream in(path, std::ios::binary);
    require(bool(in), "cannot open PyTorch file {}", file);
    char head[4] = {};
    in.read(head, 4);
    const auto got = size_t(in.gcount());
    if (ZipReader::looks_like_zip(std::as_bytes(std::span<const char>(head, got)))) {
        in.close();
        load_zip(f);
        return f;
    }
    require(got >= 3 && uint8_t(head[0]) == 0x80 && uint8_t(head[2]) == 0x8a,
            "{}: not a PyTorch file: neither a zip archive nor the legacy pickle format "
            "(first bytes {:02x} {:02x} {:02x})",
            file, got > 0 ? uint8_t(head[0]) : 0, got > 1 ? uint8_t(head[1]) : 0,
            got > 2 ? uint8_t(head[2]) : 0);
    in.seekg(0, std::ios::end);
    const auto size = size_t(in.tellg());
    in.seekg(0);
    std::vector<std::byte> all(size);
    in.read(reinterpret_cast<char*>(all.data()), std::streamsize(size));
    require(size_t(in.gcount()) == size, "{}: read error", file);
    f.legacy = true;
    load_legacy(f, all);
    return f;
}

}  // namespace promptlens
