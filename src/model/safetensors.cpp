#include "model/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace promptlens {
namespace {

using nlohmann::json;

struct DTypeName {
    const char* name;
    TensorDType dtype;
    size_t size;
};
constexpr DTypeName kDTypes[] = {
    {"F64", TensorDType::F64, 8},   {"F32", TensorDType::F32, 4}, {"F16", TensorDType::F16, 2},
    {"BF16", TensorDType::BF16, 2}, {"I64", TensorDType::I64, 8}, {"I32", TensorDType::I32, 4},
    {"I16", TensorDType::I16, 2},   {"I8", TensorDType::I8, 1},   {"U8", TensorDType::U8, 1},
    {"BOOL", TensorDType::BOOL, 1},
};

// Header sizes beyond this are not a real checkpoint (the largest hub headers are a few MB).
constexpr uint64_t kMaxHeader = uint64_t{100} << 20;

uint16_t load_u16(const std::byte* p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}

}  // namespace

const char* tensor_dtype_name(TensorDType t) {
    for (const auto& d : kDTypes)
        if (d.dtype == t) return d.name;
    return "?";
}
size_t tensor_dtype_size(TensorDType t) {
    for (const auto& d : kDTypes)
        if (d.dtype == t) return d.size;
    return 0;
}

size_t TensorInfo::count() const {
    size_t n = 1;
    for (size_t s : shape) n *= s;
    return n;
}

std::string shape_string(std::span<const size_t> shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

float half_to_float(uint16_t h) {
    uint32_t sign = uint32_t(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    if (exp == 0) {  // zero or subnormal: mant * 2^-24
        float v = std::ldexp(float(mant), -24);
        return sign ? -v : v;
    }
    uint32_t bits = exp == 31 ? sign | 0x7f800000u | (mant << 13)  // inf / nan
                              : sign | ((exp + 112) << 23) | (mant << 13);
    return std::bit_cast<float>(bits);
}

float bf16_to_float(uint16_t b) {
    return std::bit_cast<float>(uint32_t(b) << 16);
}

uint16_t float_to_bf16(float f) {
    uint32_t u = std::bit_cast<uint32_t>(f);
    if (std::isnan(f)) return uint16_t((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
}

uint16_t float_to_half(float f) {
    uint32_t u = std::bit_cast<uint32_t>(f);
    uint16_t sign = uint16_t((u >> 16) & 0x8000u);
    float a = std::fabs(f);
    if (std::isnan(f)) return sign | 0x7e00u;
    if (a >= 65520.0f) return sign | 0x7c00u;  // rounds to infinity
    if (a < 6.103515625e-05f) {                // subnormal half: multiples of 2^-24
        return sign | uint16_t(std::nearbyint(a * 16777216.0f));
    }
    uint32_t au = std::bit_cast<uint32_t>(a);
    uint32_t exp = (au >> 23) - 112, mant = au & 0x7fffffu;
    uint32_t h = (exp << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u)))
        ++h;  // carries into the exponent are right
    return sign | uint16_t(h);
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path)
    : path_(path), map_(path, "safetensors file", 8, "the header length alone is 8 bytes") {
    const std::string file = path.string();
    uint64_t n = 0;
    std::memcpy(&n, map_.data(), 8);  // little-endian on every platform this builds for
    require(n <= kMaxHeader && n <= map_.size() - 8,
            "{}: header length {} runs past the end of the file ({} bytes): truncated or not a "
            "safetensors file",
            file, n, map_.size());
    data_ = map_.data() + 8 + n;
    data_size_ = map_.size() - 8 - n;
    json header;
    try {
        header = json::parse(reinterpret_cast<const char*>(map_.data() + 8),
                             reinterpret_cast<const char*>(map_.data() + 8 + n));
    } catch (const json::parse_error& err) {
        fail("{}: header is not valid JSON: {}", file, err.what());
    }
    require(header.is_object(), "{}: header must be a JSON object, got {}", file,
            header.type_name());
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            require(entry.is_object(), "{}: __metadata__ must be an object", file);
            for (const auto& [k, v] : entry.items()) {
                require(v.is_string(), "{}: __metadata__ value for \"{}\" must be a string", file,
                        k);
                metadata_[k] = v.get<std::string>();
            }
            continue;
        }
        require(entry.is_object(), "{}: tensor \"{}\": entry must be an object", file, name);
        auto dt = entry.find("dtype"), sh = entry.find("shape"), off = entry.find("data_offsets");
        require(dt != entry.end() && dt->is_string(), "{}: tensor \"{}\": missing dtype", file,
                name);
        require(sh != entry.end() && sh->is_array(), "{}: tensor \"{}\": missing shape", file,
                name);
        require(off != entry.end() && off->is_array() && off->size() == 2,
                "{}: tensor \"{}\": data_offsets must be [begin, end]", file, name);
        TensorInfo t;
        t.name = name;
        const std::string dts = dt->get<std::string>();
        auto d = std::find_if(std::begin(kDTypes), std::end(kDTypes),
                              [&](const DTypeName& x) { return dts == x.name; });
        require(d != std::end(kDTypes), "{}: tensor \"{}\": unsupported dtype \"{}\"", file, name,
                dts);
        t.dtype = d->dtype;
        size_t count = 1;
        for (const auto& s : *sh) {
            require(s.is_number_unsigned(), "{}: tensor \"{}\": shape {} has a bad dimension", file,
                    name, sh->dump());
            size_t v = s.get<size_t>();
            require(v == 0 || count <= std::numeric_limits<size_t>::max() / 8 / v,
                    "{}: tensor \"{}\": shape {} overflows", file, name, sh->dump());
            count *= v;
            t.shape.push_back(v);
        }
        require((*off)[0].is_number_unsigned() && (*off)[1].is_number_unsigned(),
                "{}: tensor \"{}\": data_offsets {} must be non-negative integers", file, name,
                off->dump());
        size_t begin = (*off)[0].get<size_t>(), end = (*off)[1].get<size_t>();
        require(begin <= end && end <= data_size_,
                "{}: tensor \"{}\": data_offsets [{}, {}] lie outside the {} data bytes the "
                "file holds (truncated file or a header that lies)",
                file, name, begin, end, data_size_);
        t.offset = begin;
        t.nbytes = end - begin;
        require(t.nbytes == count * d->size,
                "{}: tensor \"{}\": {} {} needs {} bytes but data_offsets [{}, {}] give {}", file,
                name, dts, shape_string(t.shape), count * d->size, begin, end, t.nbytes);
        index_[name] = tensors_.size();
        tensors_.push_back(std::move(t));
    }
    // No two tensors may share bytes (a header that lies about its layout).
    std::vector<const TensorInfo*> by_offset;
    for (const auto& t : tensors_) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(),
              [](auto* a, auto* b) { return a->offset < b->offset; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
        const auto *a = by_offset[i - 1], *b = by_offset[i];
        require(a->offset + a->nbytes <= b->offset || b->nbytes == 0 || a->nbytes == 0,
                "{}: tensors \"{}\" and \"{}\" overlap (bytes [{}, {}) and [{}, {}))", file,
                a->name, b->name, a->offset, a->offset + a->nbytes, b->offset,
                b->offset + b->nbytes);
    }
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& SafetensorsFile::get(const std::string& name) const {
    const TensorInfo* t = find(name);
    require(t != nullptr, "{}: no tensor named \"{}\" ({} tensors in the file)", path_.string(),
            name, tensors_.size());
    return *t;
}

std::span<const std::byte> SafetensorsFile::bytes(const TensorInfo& t) const {
    return {data_ + t.offset, t.nbytes};
}

std::optional<std::span<const float>> SafetensorsFile::f32_view(const TensorInfo& t) const {
    const std::byte* p = data_ + t.offset;
    if (t.dtype != TensorDType::F32 || reinterpret_cast<uintptr_t>(p) % alignof(float) != 0) {
        return std::nullopt;
    }
    return std::span<const float>(reinterpret_cast<const float*>(p), t.count());
}

void SafetensorsFile::read_f32(const TensorInfo& t, std::span<float> out) const {
    require(out.size() == t.count(), "{}: tensor \"{}\": {} elements into a buffer of {}",
            path_.string(), t.name, t.count(), out.size());
    const std::byte* p = data_ + t.offset;
    switch (t.dtype) {
        case TensorDType::F32:
            std::memcpy(out.data(), p, t.nbytes);
            return;
        case TensorDType::F16:
            for (size_t i = 0; i < out.size(); ++i) out[i] = half_to_float(load_u16(p + 2 * i));
            return;
        case TensorDType::BF16:
            for (size_t i = 0; i < out.size(); ++i) out[i] = bf16_to_float(load_u16(p + 2 * i));
            return;
        case TensorDType::F64:
            for (size_t i = 0; i < out.size(); ++i) {
                double v;
                std::memcpy(&v, p + 8 * i, 8);
                out[i] = static_cast<float>(v);
            }
            return;
        default:
            fail(
                "{}: tensor \"{}\" has dtype {}; a floating tensor (F32, F16, BF16, F64) is needed",
                path_.string(), t.name, tensor_dtype_name(t.dtype));
    }
}

std::vector<float> SafetensorsFile::read_f32(const TensorInfo& t) const {
    std::vector<float> v(t.count());
    read_f32(t, v);
    return v;
}

void write_safetensors(const std::filesystem::path& path, std::span<const TensorToWrite> tensors,
                       const std::map<std::string, std::string>& metadata) {
    json header = json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    size_t offset = 0;
    for (const auto& t : tensors) {
        size_t count = 1;
        for (size_t s : t.shape) count *= s;
        require(t.data.size() == count * tensor_dtype_size(t.dtype),
                "write_safetensors {}: tensor \"{}\" {} {} needs {} bytes, got {}", path.string(),
                t.name, tensor_dtype_name(t.dtype), shape_string(t.shape),
                count * tensor_dtype_size(t.dtype), t.data.size());
        header[t.name] = {{"dtype", tensor_dtype_name(t.dtype)},
                          {"shape", t.shape},
                          {"data_offsets", {offset, offset + t.data.size()}}};
        offset += t.data.size();
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    uint64_t n = text.size();
    AtomicFile out(path);
    out.write(&n, 8);
    out.write(text);
    for (const auto& t : tensors) out.write(t.data.data(), t.data.size());
    out.commit();
}

}  // namespace promptlens
