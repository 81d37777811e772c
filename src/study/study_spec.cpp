#include "study/study_spec.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "core/error.hpp"

namespace promptlens {
namespace {
namespace fs = std::filesystem;

// Reading one table: every lookup names "file:line: key.path" in its errors, and `done()` refuses
// keys that nobody asked for (typos must not be silently ignored).
class Reader {
  public:
    Reader(const toml::table& t, std::string path, const fs::path& file)
        : t_(t), path_(std::move(path)), file_(file) {}

    std::string where(const toml::node& n, const std::string& key) const {
        return fmt::format("{}:{}: {}", file_.filename().string(), n.source().begin.line,
                           name(key));
    }
    std::string name(const std::string& key) const {
        return path_.empty() ? key : path_ + "." + key;
    }
    const toml::node* find(const std::string& key) {
        seen_.insert(key);
        return t_.get(key);
    }
    static const char* type_name(const toml::node& n) {
        switch (n.type()) {
            case toml::node_type::string:
                return "a string";
            case toml::node_type::integer:
                return "an integer";
            case toml::node_type::floating_point:
                return "a number";
            case toml::node_type::boolean:
                return "a boolean";
            case toml::node_type::array:
                return "a list";
            case toml::node_type::table:
                return "a table";
            default:
                return "a date or time";
        }
    }
    [[noreturn]] void wrong(const toml::node& n, const std::string& key, const char* expected) {
        fail("{}: expected {}, got {}", where(n, key), expected, type_name(n));
    }

    std::string string(const std::string& key, std::string fallback) {
        const toml::node* n = find(key);
        if (!n) return fallback;
        if (!n->is_string()) wrong(*n, key, "a string");
        return std::string(*n->as_string());
    }
    double number(const std::string& key, double fallback) {
        const toml::node* n = find(key);
        if (!n) return fallback;
        if (n->is_integer()) return static_cast<double>(n->as_integer()->get());
        if (!n->is_floating_point()) wrong(*n, key, "a number");
        return n->as_floating_point()->get();
    }
    int64_t integer(const std::string& key, int64_t fallback, int64_t min) {
        const toml::node* n = find(key);
        if (!n) return fallback;
        if (!n->is_integer()) wrong(*n, key, "an integer");
        const int64_t v = n->as_integer()->get();
        require(v >= min, "{}: must be at least {}, got {}", where(*n, key), min, v);
        return v;
    }
    bool boolean(const std::string& key, bool fallback) {
        const toml::node* n = find(key);
        if (!n) return fallback;
        if (!n->is_boolean()) wrong(*n, key, "true or false");
        return n->as_boolean()->get();
    }
    std::vector<std::string> strings(const std::string& key, std::vector<std::string> fallback) {
        const toml::node* n = find(key);
        if (!n) return fallback;
        if (!n->is_array()) wrong(*n, key, "a list of strings");
        std::vector<std::string> out;
        for (const toml::node& e : *n->as_array()) {
            if (!e.is_string()) wrong(e, key, "a list of strings");
            out.emplace_back(*e.as_string());
        }
        return out;
    }
    const toml::table* table(const std::string& key, bool required) {
        const toml::node* n = find(key);
        if (!n) {
            require(!required, "{}: the [{}] table is missing", file_.filename().string(),
                    name(key));
            return nullptr;
        }
        if (!n->is_table()) wrong(*n, key, "a table");
        return n->as_table();
    }
    // One of `allowed`, else an error listing them.
    std::string choice(const std::string& key, std::string fallback,
                       std::initializer_list<const char*> allowed) {
        const toml::node* n = find(key);
        const std::string v = string(key, fallback);
        if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return v == a; })) {
            std::string list;
            for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
            fail("{}: '{}' is not one of {}", where(*n, key), v, list);
        }
        return v;
    }
    fs::path file_path(const std::string& key, bool required) {
        const toml::node* n = find(key);
        if (!n) {
            require(!required, "{}: {} is required", file_.filename().string(), name(key));
            return {};
        }
        const fs::path p = resolve(string(key, ""));
        require(fs::exists(p), "{}: {} does not exist", where(*n, key), p.string());
        return p;
    }
    fs::path resolve(const std::string& p) const {
        const fs::path path(p);
        return path.is_absolute() ? path : (file_.parent_path() / path).lexically_normal();
    }
    void done() {
        for (const auto& [k, v] : t_) {
            const std::string key(k.str());
            if (!seen_.count(key)) fail("{}: unknown key", where(v, key));
        }
    }
    const toml::table& raw() const { return t_; }

  private:
    const toml::table& t_;
    std::string path_;
    fs::path file_;
    std::set<std::string> seen_;
};

// toml++ keeps a table's keys sorted; studies mean file order (grid columns, prompt rows).
std::vector<std::pair<std::string, const toml::node*>> in_file_order(const toml::table& t) {
    std::vector<std::pair<std::string, const toml::node*>> out;
    for (const auto& [k, v] : t) out.emplace_back(std::string(k.str()), &v);
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        const auto& x = a.second->source().begin;
        const auto& y = b.second->source().begin;
        return x.line != y.line ? x.line < y.line : x.column < y.column;
    });
    return out;
}

bool valid_name(const std::string& s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(),
                       [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                                  c == '_' || c == '.';
                       }) &&
           s != "." && s != "..";
}

void read_model(Reader& r, StudySpec& s) {
    Reader m(*r.table("model", true), "model", s.file);
    s.model.path = m.string("path", "");
    s.model.tokenizer = m.file_path("tokenizer", false);
    if (const toml::table* rt = m.table("random", false)) {
        Reader rr(*rt, "model.random", s.file);
        RandomModelSpec& x = s.model.random_spec;
        x.layers = static_cast<int>(rr.integer("layers", x.layers, 1));
        x.heads = static_cast<int>(rr.integer("heads", x.heads, 1));
        x.embd = static_cast<int>(rr.integer("embd", x.embd, 8));
        x.positions = static_cast<int>(rr.integer("positions", x.positions, 8));
        x.seed = static_cast<uint64_t>(rr.integer("seed", 0, 0));
        x.tokenizer = rr.file_path("tokenizer", true);
        rr.done();
        require(x.embd % x.heads == 0, "{}: model.random: embd {} is not a multiple of heads {}",
                s.file.filename().string(), x.embd, x.heads);
        s.model.random = true;
    }
    require(s.model.random != !s.model.path.empty(),
            "{}: [model] needs exactly one of path = \"gpt2\" (a folder or hub name) or a "
            "[model.random] table",
            s.file.filename().string());
    if (!s.model.random &&
        (s.model.path.find('/') != std::string::npos || s.model.path[0] == '.')) {
        // A path, not a hub name: relative to the study file.
        s.model.path = m.resolve(s.model.path).string();
    }
    m.done();
}

void read_data(Reader& r, StudySpec& s) {
    Reader d(*r.table("data", true), "data", s.file);
    StudyData& x = s.data;
    x.path = d.file_path("path", true);
    x.format = d.choice("format", x.format,
                        {"auto", "folders", "tar", "csv", "tsv", "jsonl", "json", "lines"});
    x.text_column = d.string("text_column", x.text_column);
    x.label_column = d.string("label_column", x.label_column);
    x.label_folders = d.string("label_folders", "");
    x.subdir = d.string("subdir", "");
    x.sample = static_cast<size_t>(d.integer("sample", 0, 0));
    x.max_length = static_cast<size_t>(d.integer("max_length", 1000, 1));
    d.done();
}

void read_prompts(Reader& r, StudySpec& s) {
    std::set<std::string> names;
    auto add = [&](const std::string& table, bool text) {
        const toml::table* t = r.table(table, false);
        if (!t) return;
        Reader p(*t, table, s.file);
        for (const auto& [name, node] : in_file_order(*t)) {
            const toml::node& v = *node;
            require(valid_name(name),
                    "{}: prompt names are folder names: letters, digits, '-', '_', '.'",
                    p.where(v, name));
            require(names.insert(name).second, "{}: a prompt named '{}' is already defined",
                    p.where(v, name), name);
            StudyPrompt sp{name, {}, {}, false, {}};
            if (text) {
                sp.text = p.string(name, "");
                require(!sp.text.empty(), "{}: the prompt text is empty", p.where(v, name));
            } else {
                sp.file = p.file_path(name, true);
            }
            s.prompts.push_back(sp);
        }
        p.done();
    };
    add("prompts", false);
    add("text_prompts", true);
    if (const toml::table* t = r.table("trained_prompts", false)) {
        Reader p(*t, "trained_prompts", s.file);
        for (const auto& [name, node] : in_file_order(*t)) {
            const toml::node& v = *node;
            require(valid_name(name),
                    "{}: prompt names are folder names: letters, digits, '-', '_', '.'",
                    p.where(v, name));
            require(names.insert(name).second, "{}: a prompt named '{}' is already defined",
                    p.where(v, name), name);
            Reader q(*p.table(name, true), "trained_prompts." + name, s.file);
            StudyPrompt sp{name, {}, {}, true, {}};
            StudyTraining& x = sp.training;
            x.data = q.file_path("data", false);
            x.loss = q.choice("loss", x.loss, {"token", "cosine", "distance", "contrastive"});
            x.output = q.choice("output", "", {"", "hidden", "logits", "label-logits"});
            x.epochs = q.integer("epochs", x.epochs, 1);
            x.batch_size = q.integer("batch_size", x.batch_size, 1);
            x.prompt_length = q.integer("prompt_length", x.prompt_length, 1);
            x.learning_rate = q.number("learning_rate", x.learning_rate);
            x.margin = q.number("margin", x.margin);
            x.temperature = q.number("temperature", x.temperature);
            x.validation_fraction = q.number("validation_fraction", x.validation_fraction);
            x.init = q.choice("init", x.init, {"random", "vocab", "text"});
            x.init_text = q.string("init_text", "");
            require(x.learning_rate > 0, "{}: learning_rate must be positive",
                    q.where(v, "learning_rate"));
            require(x.validation_fraction >= 0 && x.validation_fraction < 1,
                    "{}: validation_fraction must be in [0, 1)", q.where(v, "validation_fraction"));
            require((x.init == "text") == !x.init_text.empty(),
                    "{}: init = \"text\" and init_text go together", q.where(v, "init"));
            q.done();
            s.prompts.push_back(sp);
        }
        p.done();
    }
    require(!s.prompts.empty(),
            "{}: no prompts: add a [prompts] table (name = \"file.pt\"), [text_prompts] "
            "(name = \"text\") or [trained_prompts.NAME]",
            s.file.filename().string());
}

void read_extract(Reader& r, StudySpec& s) {
    const toml::table* t = r.table("extract", false);
    if (!t) return;
    Reader e(*t, "extract", s.file);
    StudyExtract& x = s.extract;
    const auto outputs = e.strings("outputs", {"hidden"});
    x.hidden = x.logits = false;
    for (const auto& o : outputs) {
        if (o == "hidden")
            x.hidden = true;
        else if (o == "logits")
            x.logits = true;
        else
            fail("{}: unknown output '{}'; expected hidden and/or logits",
                 e.where(*t->get("outputs"), "outputs"), o);
    }
    if (!x.hidden && !x.logits) fail("{}: no outputs", e.where(*t->get("outputs"), "outputs"));
    x.logits_full = e.boolean("logits_full", false);
    x.logits_tokens = e.strings("logits_tokens", {});
    if (x.logits) {
        require(x.logits_full != !x.logits_tokens.empty(),
                "{}: extract: logits need exactly one of logits_full = true or logits_tokens = "
                "[\"good\", \"bad\"]",
                s.file.filename().string());
    }
    if (const toml::table* lt = e.table("label_tokens", false)) {
        Reader l(*lt, "extract.label_tokens", s.file);
        for (const auto& [k, v] : *lt)
            x.label_tokens[std::string(k.str())] = l.string(std::string(k.str()), "");
        l.done();
    }
    x.positions = e.choice("positions", x.positions, {"exact", "hf-padded"});
    x.batch_size = static_cast<size_t>(e.integer("batch_size", 32, 1));
    e.done();
}

void read_methods(Reader& r, StudySpec& s) {
    const toml::table* t = r.table("methods", true);
    for (const auto& [id, node] : in_file_order(*t)) {
        const toml::node& v = *node;
        Reader m0(*t, "methods", s.file);
        require(v.is_table(), "{}: expected a table ([methods.{}])", m0.where(v, id), id);
        require(valid_name(id), "{}: method names are folder names: letters, digits, '-', '_'",
                m0.where(v, id));
        Reader m(*v.as_table(), "methods." + id, s.file);
        StudyMethod sm;
        sm.id = id;
        sm.method = m.choice("method", id, {"pca", "tsne", "umap", "kmeans"});
        auto num = [&](const char* key, double fallback, double lo, double hi) {
            const double x = m.number(key, fallback);
            const toml::node* n = v.as_table()->get(key);
            require(x >= lo && x <= hi, "{}: must be in [{}, {}], got {}",
                    n ? m.where(*n, key) : m.name(key), lo, hi, x);
            sm.numbers[key] = x;
        };
        auto str = [&](const char* key, std::string fallback,
                       std::initializer_list<const char*> allowed) {
            sm.strings[key] = m.choice(key, fallback, allowed);
        };
        if (sm.method == "pca") {
            num("components", 2, 2, 1000);
        } else if (sm.method == "tsne") {
            num("perplexity", 30, 1, 1000);
            num("iterations", 1000, 250, 100000);
            num("early_exaggeration", 12, 1, 100);
            num("theta", 0.5, 0, 1);
            const toml::node* lr = v.as_table()->get("learning_rate");
            if (lr && lr->is_string()) {
                str("learning_rate", "auto", {"auto"});
            } else {
                num("learning_rate", 0, 0, 1e6);  // 0: auto
            }
            str("init", "pca", {"pca", "random"});
            str("metric", "euclidean", {"euclidean", "cosine"});
            str("repulsion", "auto", {"auto", "exact", "barnes-hut", "fft"});
        } else if (sm.method == "umap") {
            num("n_neighbors", 15, 2, 1000);
            num("min_dist", 0.1, 0, 10);
            num("spread", 1, 0.01, 100);
            num("epochs", 0, 0, 100000);  // 0: 200 above 10,000 rows, else 500
            num("learning_rate", 1, 1e-6, 100);
            num("negative_sample_rate", 5, 0, 100);
            num("target_weight", 0.5, 0, 1);
            str("init", "spectral", {"spectral", "random", "pca"});
            str("metric", "euclidean", {"euclidean", "cosine"});
            sm.numbers["supervised"] = m.boolean("supervised", false) ? 1 : 0;
        } else {  // kmeans
            const toml::node* c = m.find("clusters");
            if (!c) {
                sm.clusters = {2};
            } else if (c->is_integer()) {
                sm.clusters = {c->as_integer()->get()};
            } else if (c->is_array()) {
                for (const toml::node& e : *c->as_array()) {
                    if (!e.is_integer()) m.wrong(e, "clusters", "an integer or a list of integers");
                    sm.clusters.push_back(e.as_integer()->get());
                }
            } else {
                m.wrong(*c, "clusters", "an integer or a list of integers");
            }
            if (c) {
                for (int64_t clusters : sm.clusters) {
                    if (clusters < 1) {
                        fail("{}: cluster counts must be at least 1, got {}",
                             m.where(*c, "clusters"), clusters);
                    }
                }
                if (sm.clusters.empty()) fail("{}: no cluster counts", m.where(*c, "clusters"));
            }
            num("n_init", 10, 1, 1000);
            num("max_iter", 300, 1, 100000);
        }
        m.done();
        s.methods.push_back(sm);
    }
    require(!s.methods.empty(), "{}: [methods] is empty: add e.g. [methods.pca]",
            s.file.filename().string());
}

}  // namespace

StudySpec parse_study(const std::string& text, const fs::path& file) {
    StudySpec s;
    s.file = fs::absolute(file).lexically_normal();
    toml::table root;
    try {
        root = toml::parse(text, s.file.string());
    } catch (const toml::parse_error& e) {
        fail("{}:{}: {}", s.file.filename().string(), e.source().begin.line, e.description());
    }
    Reader r(root, "", s.file);
    s.title = r.string("title", s.file.stem().string());
    s.out = r.resolve(r.string("out", "out/" + s.file.stem().string()));
    s.seed = static_cast<uint64_t>(r.integer("seed", 0, 0));
    s.threads = static_cast<int>(r.integer("threads", 0, 0));
    read_model(r, s);
    read_data(r, s);
    read_prompts(r, s);
    read_extract(r, s);
    if (const toml::table* a = r.table("analysis", false)) {
        Reader ar(*a, "analysis", s.file);
        s.scalings = ar.strings("scalings", s.scalings);
        if (const toml::node* n = a->get("scalings")) {
            for (const auto& sc : s.scalings) {
                if (sc != "raw" && sc != "scaled") {
                    fail("{}: unknown scaling '{}'; expected raw or scaled",
                         ar.where(*n, "scalings"), sc);
                }
            }
            if (s.scalings.empty()) fail("{}: no scalings", ar.where(*n, "scalings"));
        }
        ar.done();
    }
    read_methods(r, s);
    r.done();
    return s;
}

StudySpec read_study(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    require(in.good(), "{}: cannot open the study file", file.string());
    std::ostringstream text;
    text << in.rdbuf();
    return parse_study(text.str(), file);
}

std::string model_name(const StudyModel& m) {
    if (m.random) {
        return fmt::format("random-weight GPT-2 ({} layers, width {})", m.random_spec.layers,
                           m.random_spec.embd);
    }
    fs::path p(m.path);
    if (p.filename().empty()) p = p.parent_path();  // "models/gpt2/"
    return p.filename().string();
}

}  // namespace promptlens
