#include "model/torch_pickle.hpp"

#include <cstring>
#include <set>

#include "core/error.hpp"

namespace promptlens {

const char* PyValue::kind_name() const {
    switch (kind) {
        case Kind::None:
            return "None";
        case Kind::Bool:
            return "bool";
        case Kind::Int:
            return "int";
        case Kind::BigInt:
            return "int (more than 64 bits)";
        case Kind::Float:
            return "float";
        case Kind::String:
            return "str";
        case Kind::Bytes:
            return "bytes";
        case Kind::Tuple:
            return "tuple";
        case Kind::List:
            return "list";
        case Kind::Dict:
            return "dict";
        case Kind::Global:
            return "global";
        case Kind::Storage:
            return "storage";
        case Kind::Tensor:
            return "tensor";
    }
    return "?";
}

namespace {

using Kind = PyValue::Kind;

// The allow-list: what torch.load(weights_only=True) accepts for plain checkpoints.
const std::map<std::string, TensorDType>& storage_types() {
    static const std::map<std::string, TensorDType> m = {
        {"torch.FloatStorage", TensorDType::F32},     {"torch.HalfStorage", TensorDType::F16},
        {"torch.BFloat16Storage", TensorDType::BF16}, {"torch.DoubleStorage", TensorDType::F64},
        {"torch.LongStorage", TensorDType::I64},      {"torch.IntStorage", TensorDType::I32},
        {"torch.ShortStorage", TensorDType::I16},     {"torch.CharStorage", TensorDType::I8},
        {"torch.ByteStorage", TensorDType::U8},       {"torch.BoolStorage", TensorDType::BOOL},
    };
    return m;
}
bool allowed_global(const std::string& name) {
    static const std::set<std::string> callables = {
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter"};
    return callables.count(name) > 0 || storage_types().count(name) > 0;
}

PyPtr make(Kind k) {
    auto v = std::make_shared<PyValue>();
    v->kind = k;
    return v;
}

class Unpickler {
  public:
    Unpickler(std::span<const std::byte> bytes, const std::string& source)
        : p_(bytes), source_(source) {}

    UnpickleResult run() {
        while (true) {
            const size_t at = pos_;
            const uint8_t op = u8();
            switch (op) {
                case 0x80:
                    proto_ = u8();
                    break;  // PROTO
                case 0x95:
                    take(8);
                    break;  // FRAME (length ignored)
                case '(':
                    marks_.push_back(stack_.size());
                    break;   // MARK
                case '.': {  // STOP
                    require(stack_.size() == 1,
                            "{}: pickle STOP at offset {} with {} objects on "
                            "the stack (expected 1); the pickle is corrupt",
                            source_, at, stack_.size());
                    return {stack_.back(), pos_};
                }
                case 'N':
                    push(make(Kind::None));
                    break;
                case 0x88:
                case 0x89: {  // NEWTRUE / NEWFALSE
                    auto v = make(Kind::Bool);
                    v->b = op == 0x88;
                    push(v);
                    break;
                }
                case 'K':
                    push_int(int64_t(uint_le(1)));
                    break;  // BININT1
                case 'M':
                    push_int(int64_t(uint_le(2)));
                    break;  // BININT2
                case 'J':
                    push_int(int64_t(int32_t(uint32_t(uint_le(4)))));
                    break;    // BININT
                case 0x8a: {  // LONG1
                    const size_t n = u8();
                    auto b = take(n);
                    if (n <= 8) {
                        uint64_t v = 0;
                        for (size_t k = n; k-- > 0;) v = (v << 8) | std::to_integer<uint64_t>(b[k]);
                        if (n > 0 && n < 8 && (std::to_integer<uint8_t>(b[n - 1]) & 0x80))
                            v |= ~uint64_t(0) << (8 * n);  // sign-extend
                        push_int(int64_t(v));
                    } else {
                        auto v = make(Kind::BigInt);
                        v->s.assign(reinterpret_cast<const char*>(b.data()), n);
                        push(v);
                    }
                    break;
                }
                case 'G': {  // BINFLOAT (big-endian)
                    uint64_t bits = 0;
                    for (std::byte c : take(8)) bits = (bits << 8) | std::to_integer<uint64_t>(c);
                    auto v = make(Kind::Float);
                    std::memcpy(&v->f, &bits, 8);
                    push(v);
                    break;
                }
                case 'X':
                    push_str(Kind::String, uint_le(4));
                    break;  // BINUNICODE
                case 0x8c:
                    push_str(Kind::String, u8());
                    break;  // SHORT_BINUNICODE
                case 'T':
                    push_str(Kind::String, uint_le(4));
                    break;  // BINSTRING
                case 'U':
                    push_str(Kind::String, u8());
                    break;  // SHORT_BINSTRING
                case 'B':
                    push_str(Kind::Bytes, uint_le(4));
                    break;  // BINBYTES
                case 'C':
                    push_str(Kind::Bytes, u8());
                    break;  // SHORT_BINBYTES
                case ')':
                    push(make(Kind::Tuple));
                    break;   // EMPTY_TUPLE
                case 't': {  // TUPLE
                    auto v = make(Kind::Tuple);
                    v->items = pop_mark(at);
                    push(v);
                    break;
                }
                case 0x85:
                case 0x86:
                case 0x87: {  // TUPLE1..3
                    const size_t n = op - 0x84u;
                    need(n, at, "TUPLE" + std::to_string(n));
                    auto v = make(Kind::Tuple);
                    v->items.assign(stack_.end() - long(n), stack_.end());
                    stack_.resize(stack_.size() - n);
                    push(v);
                    break;
                }
                case ']':
                    push(make(Kind::List));
                    break;   // EMPTY_LIST
                case 'l': {  // LIST
                    auto v = make(Kind::List);
                    v->items = pop_mark(at);
                    push(v);
                    break;
                }
                case 'a': {  // APPEND
                    need(2, at, "APPEND");
                    auto x = pop();
                    expect(top(), Kind::List, at, "APPEND");
                    top()->items.push_back(x);
                    break;
                }
                case 'e': {  // APPENDS
                    auto xs = pop_mark(at);
                    need(1, at, "APPENDS");
                    expect(top(), Kind::List, at, "APPENDS");
                    top()->items.insert(top()->items.end(), xs.begin(), xs.end());
                    break;
                }
                case '}':
                    push(make(Kind::Dict));
                    break;   // EMPTY_DICT
                case 'd': {  // DICT
                    auto xs = pop_mark(at);
                    auto v = make(Kind::Dict);
                    set_items(*v, xs, at);
                    push(v);
                    break;
                }
                case 's': {  // SETITEM
                    need(3, at, "SETITEM");
                    auto val = pop();
                    auto key = pop();
                    expect(top(), Kind::Dict, at, "SETITEM");
                    set_items(*top(), {key, val}, at);
                    break;
                }
                case 'u': {  // SETITEMS
                    auto xs = pop_mark(at);
                    need(1, at, "SETITEMS");
                    expect(top(), Kind::Dict, at, "SETITEMS");
                    set_items(*top(), xs, at);
                    break;
                }
                case 'q':
                    memo_put(uint_le(1), at);
                    break;  // BINPUT
                case 'r':
                    memo_put(uint_le(4), at);
                    break;  // LONG_BINPUT
                case 0x94:
                    memo_put(memo_.size(), at);
                    break;  // MEMOIZE
                case 'h':
                    memo_get(uint_le(1), at);
                    break;  // BINGET
                case 'j':
                    memo_get(uint_le(4), at);
                    break;   // LONG_BINGET
                case 'c': {  // GLOBAL
                    std::string module = line(at), name = line(at);
                    push_global(module + "." + name, at);
                    break;
                }
                case 0x93: {  // STACK_GLOBAL
                    need(2, at, "STACK_GLOBAL");
                    auto name = pop(), module = pop();
                    expect(name, Kind::String, at, "STACK_GLOBAL");
                    expect(module, Kind::String, at, "STACK_GLOBAL");
                    push_global(module->s + "." + name->s, at);
                    break;
                }
                case 'Q': {  // BINPERSID
                    need(1, at, "BINPERSID");
                    push(persistent_load(pop(), at));
                    break;
                }
                case 'R': {  // REDUCE
                    need(2, at, "REDUCE");
                    auto args = pop();
                    auto fn = pop();
                    push(reduce(fn, args, at));
                    break;
                }
                case 'b': {  // BUILD
                    need(2, at, "BUILD");
                    auto state = pop();
                    const bool empty = state->kind == Kind::None ||
                                       (state->kind == Kind::Dict && state->dict.empty()) ||
                                       (state->kind == Kind::Tuple && state->items.empty());
                    // torch.save(module.state_dict()) pickles the OrderedDict's attributes
                    // ({"_metadata": {module: {"version": n}}}) this way; they are not tensors.
                    const bool dict_attrs = top()->kind == Kind::Dict && state->kind == Kind::Dict;
                    require(empty || dict_attrs,
                            "{}: pickle BUILD at offset {} sets state ({}) on a {}; object state "
                            "is not supported in a checkpoint",
                            source_, at, state->kind_name(), top()->kind_name());
                    break;
                }
                default:
                    fail(
                        "{}: unsupported pickle opcode 0x{:02x}{} at offset {} (protocol {}); "
                        "the file is corrupt or not a plain PyTorch checkpoint",
                        source_, op,
                        op >= 0x20 && op < 0x7f ? fmt::format(" ('{}')", char(op)) : "", at,
                        proto_);
            }
        }
    }

  private:
    std::span<const std::byte> p_;
    std::string source_;
    size_t pos_ = 0;
    int proto_ = 0;
    std::vector<PyPtr> stack_;
    std::vector<size_t> marks_;
    std::map<uint64_t, PyPtr> memo_;

    std::span<const std::byte> take(size_t n) {
        require(n <= p_.size() - pos_,
                "{}: pickle truncated: {} bytes needed at offset {} but only {} left", source_, n,
                pos_, p_.size() - pos_);
        auto s = p_.subspan(pos_, n);
        pos_ += n;
        return s;
    }
    uint8_t u8() { return std::to_integer<uint8_t>(take(1)[0]); }
    uint64_t uint_le(size_t n) {
        auto b = take(n);
        uint64_t v = 0;
        for (size_t k = n; k-- > 0;) v = (v << 8) | std::to_integer<uint64_t>(b[k]);
        return v;
    }
    std::string line(size_t at) {
        std::string s;
        while (true) {
            require(pos_ < p_.size(), "{}: pickle truncated inside GLOBAL at offset {}", source_,
                    at);
            require(s.size() < 256, "{}: pickle GLOBAL at offset {} has no end of line", source_,
                    at);
            char c = char(u8());
            if (c == '\n') return s;
            s += c;
        }
    }
    void push(PyPtr v) { stack_.push_back(std::move(v)); }
    void push_int(int64_t i) {
        auto v = make(Kind::Int);
        v->i = i;
        push(v);
    }
    void push_str(Kind k, uint64_t n) {
        auto b = take(size_t(n));
        auto v = make(k);
        v->s.assign(reinterpret_cast<const char*>(b.data()), b.size());
        push(v);
    }
    void need(size_t n, size_t at, const std::string& op) {
        const size_t floor = marks_.empty() ? 0 : marks_.back();
        require(stack_.size() >= floor + n,
                "{}: pickle {} at offset {} needs {} objects on the stack but has {}; the pickle "
                "is corrupt",
                source_, op, at, n, stack_.size() - floor);
    }
    PyPtr pop() {
        PyPtr v = std::move(stack_.back());
        stack_.pop_back();
        return v;
    }
    PyPtr& top() { return stack_.back(); }
    std::vector<PyPtr> pop_mark(size_t at) {
        require(!marks_.empty(),
                "{}: pickle opcode at offset {} needs a MARK but there is none; "
                "the pickle is corrupt",
                source_, at);
        const size_t m = marks_.back();
        marks_.pop_back();
        std::vector<PyPtr> xs(stack_.begin() + long(m), stack_.end());
        stack_.resize(m);
        return xs;
    }
    void expect(const PyPtr& v, Kind k, size_t at, const char* op) {
        require(v->kind == k, "{}: pickle {} at offset {} expects a {} but found a {}", source_, op,
                at, make(k)->kind_name(), v->kind_name());
    }
    void set_items(PyValue& d, const std::vector<PyPtr>& xs, size_t at) {
        require(xs.size() % 2 == 0, "{}: pickle at offset {}: {} items for a dict (odd count)",
                source_, at, xs.size());
        for (size_t k = 0; k < xs.size(); k += 2) {
            bool replaced = false;
            if (xs[k]->kind == Kind::String)
                for (auto& kv : d.dict)
                    if (kv.first->kind == Kind::String && kv.first->s == xs[k]->s) {
                        kv.second = xs[k + 1];
                        replaced = true;
                    }
            if (!replaced) d.dict.emplace_back(xs[k], xs[k + 1]);
        }
    }
    void memo_put(uint64_t idx, size_t at) {
        require(!stack_.empty(), "{}: pickle memo store at offset {} with an empty stack", source_,
                at);
        memo_[idx] = stack_.back();
    }
    void memo_get(uint64_t idx, size_t at) {
        auto it = memo_.find(idx);
        require(it != memo_.end(),
                "{}: pickle at offset {} reads memo {} which was never stored; "
                "the pickle is corrupt",
                source_, at, idx);
        push(it->second);
    }
    void push_global(const std::string& name, size_t at) {
        require(allowed_global(name),
                "{}: refusing pickle global \"{}\" at offset {}: only OrderedDict, tensors, "
                "parameters and torch storages are allowed (as torch.load(weights_only=True)); "
                "nothing was imported or executed",
                source_, name, at);
        auto v = make(Kind::Global);
        v->s = name;
        push(v);
    }
    static uint64_t as_uint(const PyPtr& v) {
        return v->kind == Kind::Int && v->i >= 0 ? uint64_t(v->i) : ~uint64_t(0);
    }

    PyPtr persistent_load(const PyPtr& pid, size_t at) {
        const auto& t = pid->items;
        const bool ok = pid->kind == Kind::Tuple && (t.size() == 5 || t.size() == 6) &&
                        t[0]->kind == Kind::String && t[0]->s == "storage" &&
                        t[1]->kind == Kind::Global && storage_types().count(t[1]->s) &&
                        t[2]->kind == Kind::String && t[3]->kind == Kind::String &&
                        t[4]->kind == Kind::Int && t[4]->i >= 0;
        require(ok,
                "{}: pickle persistent id at offset {} is not ('storage', <torch storage type>, "
                "key, location, numel)",
                source_, at);
        require(t.size() == 5 || t[5]->kind == Kind::None,
                "{}: storage \"{}\" at offset {} is a view of another storage (legacy view "
                "metadata), which is not supported",
                source_, t[2]->s, at);
        auto v = make(Kind::Storage);
        v->storage.key = t[2]->s;
        v->storage.dtype = storage_types().at(t[1]->s);
        v->storage.type_name = t[1]->s.substr(6);
        v->storage.location = t[3]->s;
        v->storage.numel = uint64_t(t[4]->i);
        return v;
    }

    std::vector<uint64_t> uint_tuple(const PyPtr& v, size_t at, const char* what) {
        require(v->kind == Kind::Tuple || v->kind == Kind::List,
                "{}: tensor {} at offset {} is a {}, not a tuple", source_, what, at,
                v->kind_name());
        std::vector<uint64_t> out;
        for (const auto& x : v->items) {
            require(x->kind == Kind::Int && x->i >= 0,
                    "{}: tensor {} at offset {} holds a {} (expected non-negative ints)", source_,
                    what, at, x->kind_name());
            out.push_back(uint64_t(x->i));
        }
        return out;
    }

    PyPtr reduce(const PyPtr& fn, const PyPtr& args, size_t at) {
        require(fn->kind == Kind::Global,
                "{}: pickle REDUCE at offset {} calls a {} (only allowed globals can be called)",
                source_, at, fn->kind_name());
        require(args->kind == Kind::Tuple, "{}: pickle REDUCE at offset {} ({}) has {} arguments",
                source_, at, fn->s, args->kind_name());
        const auto& a = args->items;
        if (fn->s == "collections.OrderedDict") {
            auto d = make(Kind::Dict);
            require(a.empty() || (a.size() == 1 && a[0]->kind == Kind::List),
                    "{}: OrderedDict at offset {} with unexpected arguments", source_, at);
            if (!a.empty())
                for (const auto& kv : a[0]->items) {
                    require(kv->kind == Kind::Tuple && kv->items.size() == 2,
                            "{}: OrderedDict item at offset {} is not a pair", source_, at);
                    set_items(*d, kv->items, at);
                }
            return d;
        }
        if (fn->s == "torch._utils._rebuild_tensor_v2" || fn->s == "torch._utils._rebuild_tensor") {
            const bool v2 = fn->s.back() == '2';
            require(v2 ? (a.size() == 6 || a.size() == 7) : a.size() == 4,
                    "{}: {} at offset {} has {} arguments", source_, fn->s, at, a.size());
            require(a[0]->kind == Kind::Storage, "{}: {} at offset {}: first argument is a {}",
                    source_, fn->s, at, a[0]->kind_name());
            auto v = make(Kind::Tensor);
            v->tensor.storage = a[0]->storage;
            v->tensor.offset = as_uint(a[1]);
            require(v->tensor.offset != ~uint64_t(0), "{}: {} at offset {}: bad storage offset",
                    source_, fn->s, at);
            v->tensor.shape = uint_tuple(a[2], at, "shape");
            v->tensor.stride = uint_tuple(a[3], at, "stride");
            require(v->tensor.shape.size() == v->tensor.stride.size(),
                    "{}: tensor at offset {} has {} dimensions but {} strides", source_, at,
                    v->tensor.shape.size(), v->tensor.stride.size());
            if (v2) v->tensor.requires_grad = a[4]->kind == Kind::Bool && a[4]->b;
            return v;
        }
        if (fn->s == "torch._utils._rebuild_parameter") {
            require(a.size() == 3 && a[0]->kind == Kind::Tensor,
                    "{}: _rebuild_parameter at offset {} has unexpected arguments", source_, at);
            auto v = std::make_shared<PyValue>(*a[0]);
            v->tensor.parameter = true;
            v->tensor.requires_grad = a[1]->kind == Kind::Bool && a[1]->b;
            return v;
        }
        fail("{}: pickle REDUCE at offset {} calls \"{}\", which cannot be called", source_, at,
             fn->s);
    }
};

}  // namespace

UnpickleResult unpickle(std::span<const std::byte> bytes, const std::string& source) {
    return Unpickler(bytes, source).run();
}

}  // namespace promptlens
