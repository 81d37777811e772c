#include "extract/extractor.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/npy.hpp"
#include "core/npy_writer.hpp"
#include "core/parallel.hpp"
#include "core/progress.hpp"
#include "extract/content_hash.hpp"
#include "model/gpt2_cpu.hpp"
#include "model/kernel_tier.hpp"

namespace promptlens {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

PositionMode parse_position_mode(const std::string& name) {
    if (name == "exact") return PositionMode::exact;
    if (name == "hf-padded") return PositionMode::hf_padded;
    fail("unknown --positions '{}': use 'exact' or 'hf-padded'", name);
}

const char* position_mode_name(PositionMode m) {
    return m == PositionMode::exact ? "exact" : "hf-padded";
}

TokenizedRows tokenize_rows(const text::Gpt2Tokenizer& tok, const TextDataset& ds,
                            size_t max_length, int threads) {
    const auto start = Clock::now();
    const size_t n = ds.rows.size();
    std::vector<std::vector<int32_t>> ids(n);
    text::EncodeOptions eo;  // texts were UTF-8 checked when loaded
    constexpr size_t block = 64;
    parallel_for(chunk_count(n, block), threads, [&](size_t c) {
        for (size_t i = c * block; i < std::min(n, (c + 1) * block); ++i) {
            ids[i] = tok.encode(ds.rows[i].text, eo, ds.rows[i].source);
        }
    });
    TokenizedRows out;
    out.full_lengths.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        require(!ids[i].empty(), "{}: the text has no tokens (empty); remove the row",
                ds.rows[i].source);
        out.full_lengths.push_back(ids[i].size());
        const size_t keep = max_length == 0 ? ids[i].size() : std::min(max_length, ids[i].size());
        out.tokens.add(std::span<const int32_t>(ids[i].data(), keep));
    }
    out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return out;
}

namespace {

const char* kJournalName = ".extract-journal";
const char* kJournalMagic = "promptlens extract journal 1";

// The files of one prompt.
struct PromptFiles {
    fs::path dir;
    std::unique_ptr<NpyRowWriter> hidden, logits, label_logits;
    std::vector<NpyRowWriter*> all() const {
        std::vector<NpyRowWriter*> v;
        for (auto* w : {hidden.get(), logits.get(), label_logits.get()}) {
            if (w) v.push_back(w);
        }
        return v;
    }
};

struct Layout {
    size_t n_rows = 0, n_embd = 0, logit_cols = 0, n_labels = 0;
    bool hidden = false, logits = false;
};

// (target path, rows, cols) of every .npy output.
std::vector<std::tuple<fs::path, size_t, size_t>> npy_targets(const fs::path& out,
                                                              const ExtractInputs& in,
                                                              const Layout& l) {
    std::vector<std::tuple<fs::path, size_t, size_t>> t;
    for (const auto& p : in.prompts) {
        if (l.hidden) t.emplace_back(out / p.name / "hidden.npy", l.n_rows, l.n_embd);
        if (l.logits) t.emplace_back(out / p.name / "logits.npy", l.n_rows, l.logit_cols);
        if (l.n_labels > 0) t.emplace_back(out / p.name / "label_logits.npy", l.n_rows, l.n_labels);
    }
    return t;
}

std::string identity_of(const ExtractInputs& in, const ExtractOptions& o,
                        std::span<const size_t> starts,
                        const std::vector<std::vector<size_t>>& chunks) {
    ContentHash h;
    h.text("promptlens extract v1").text(in.model_hash).text(in.backend->name());  // cpu-fp32/bf16
    const auto& t = in.rows->tokens;
    h.span(std::span<const int32_t>(t.ids)).span(std::span<const size_t>(t.offsets));
    h.span(std::span<const size_t>(in.rows->full_lengths));
    for (const auto& r : in.dataset->rows) h.text(r.label).text(r.source);
    for (const auto& p : in.prompts) {
        h.text(p.name).text(p.source).u64(p.embeddings.rows()).u64(p.embeddings.cols());
        h.bytes(p.embeddings.data(), p.embeddings.size() * sizeof(float));
    }
    h.u64(o.hidden).u64(static_cast<uint64_t>(o.logits));
    for (const auto& tk : o.logit_tokens) h.text(tk.name).u64(static_cast<uint64_t>(tk.id));
    for (const auto& lt : o.label_tokens) {
        h.text(lt.label).text(lt.token.name).u64(static_cast<uint64_t>(lt.token.id));
    }
    h.u64(static_cast<uint64_t>(o.positions)).span(starts);
    for (const auto& c : chunks) h.span(std::span<const size_t>(c));
    return h.hex();
}

void sync_path(const fs::path& p, int flags) {
    const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

// The journal: header lines, then "done i j k" lines. A torn last line (no '\n') is ignored.
struct Journal {
    std::string identity;
    size_t chunks = 0;
    std::set<size_t> done;
};

std::optional<Journal> read_journal(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in.good()) return std::nullopt;
    std::string all{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    Journal j;
    size_t pos = 0, line_no = 0;
    while (pos < all.size()) {
        const size_t end = all.find('\n', pos);
        if (end == std::string::npos) break;  // torn write: the chunks on it count as not done
        const std::string line = all.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (line_no == 1) {
            require(line == kJournalMagic, "{}: not a promptlens extract journal", path.string());
        } else if (line.rfind("identity ", 0) == 0) {
            j.identity = line.substr(9);
        } else if (line.rfind("chunks ", 0) == 0) {
            j.chunks = std::stoul(line.substr(7));
        } else if (line.rfind("done", 0) == 0) {
            size_t p = 4;
            while (p < line.size()) {
                while (p < line.size() && line[p] == ' ') ++p;
                if (p >= line.size()) break;
                size_t used = 0;
                j.done.insert(std::stoul(line.substr(p), &used));
                p += used;
            }
        } else {
            fail("{}: line {}: unexpected '{}'", path.string(), line_no, line);
        }
    }
    if (line_no == 0) return std::nullopt;  // torn header: as if absent
    return j;
}

void append_all(int fd, const std::string& s, const fs::path& path) {
    size_t off = 0;
    while (off < s.size()) {
        const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
        if (n < 0 && errno == EINTR) continue;
        require(n > 0, "{}: write failed: {}", path.string(), std::strerror(errno));
        off += static_cast<size_t>(n);
    }
}

std::vector<PromptAccuracy> accuracy_from_files(const fs::path& out, const ExtractInputs& in,
                                                const ExtractOptions& o) {
    std::vector<PromptAccuracy> result;
    if (o.label_tokens.empty()) return result;
    std::map<std::string, size_t> label_index;
    for (size_t k = 0; k < o.label_tokens.size(); ++k) label_index[o.label_tokens[k].label] = k;
    for (const auto& p : in.prompts) {
        const Matrix m = read_npy_matrix(out / p.name / "label_logits.npy");  // N×L
        PromptAccuracy acc;
        acc.prompt = p.name;
        for (const auto& lt : o.label_tokens) acc.classes.push_back({lt.label, 0, 0});
        for (size_t i = 0; i < m.rows(); ++i) {
            const size_t k = label_index.at(in.dataset->rows[i].label);
            const auto row = m.row(i);
            bool correct = true;
            for (size_t j = 0; j < row.size(); ++j) {
                if (j != k && !(row[k] > row[j])) correct = false;
            }
            acc.classes[k].rows += 1;
            acc.classes[k].correct += correct;
            acc.rows += 1;
            acc.correct += correct;
        }
        result.push_back(std::move(acc));
    }
    return result;
}

double ratio(size_t a, size_t b) {
    return b == 0 ? 0.0 : double(a) / double(b);
}

nlohmann::ordered_json accuracy_json(const std::vector<PromptAccuracy>& acc,
                                     const ExtractOptions& o) {
    nlohmann::ordered_json j;
    j["metric"] =
        "label-token accuracy: a row is correct when the logit of its label's token is above "
        "every other label token's";
    nlohmann::ordered_json lt = nlohmann::ordered_json::object();
    for (const auto& t : o.label_tokens)
        lt[t.label] = {{"token", t.token.name}, {"id", t.token.id}};
    j["label_tokens"] = lt;
    nlohmann::ordered_json prompts = nlohmann::ordered_json::object();
    for (const auto& a : acc) {
        nlohmann::ordered_json classes = nlohmann::ordered_json::object();
        for (const auto& c : a.classes) {
            classes[c.label] = {
                {"rows", c.rows}, {"correct", c.correct}, {"accuracy", ratio(c.correct, c.rows)}};
        }
        prompts[a.prompt] = {
            {"overall",
             {{"rows", a.rows}, {"correct", a.correct}, {"accuracy", ratio(a.correct, a.rows)}}},
            {"classes", classes}};
    }
    j["prompts"] = prompts;
    return j;
}

}  // namespace

std::string format_accuracy(const std::vector<PromptAccuracy>& accuracy) {
    std::string s;
    for (const auto& a : accuracy) {
        s += fmt::format("label-token accuracy, prompt {}: {:.4f} ({} of {})", a.prompt,
                         ratio(a.correct, a.rows), a.correct, a.rows);
        for (const auto& c : a.classes) {
            s += fmt::format("; {} {:.4f} ({} of {})", c.label, ratio(c.correct, c.rows), c.correct,
                             c.rows);
        }
        s += '\n';
    }
    return s;
}

ExtractResult run_extract(const ExtractInputs& in, const ExtractOptions& o, const fs::path& out) {
    require(in.backend && in.dataset && in.rows, "run_extract: backend, dataset and rows needed");
    const auto& ds = *in.dataset;
    const auto& tokens = in.rows->tokens;
    const size_t n = tokens.count();
    require(n == ds.rows.size() && n > 0, "run_extract: {} token rows for {} dataset rows", n,
            ds.rows.size());
    require(!in.prompts.empty(), "extract: no prompt given (--prompt or --text-prompt)");
    require(o.hidden || o.logits != LogitsRequest::none || !o.label_tokens.empty(),
            "extract: nothing to write: no hidden states, no logits, no label tokens");
    require(o.logits != LogitsRequest::selected || !o.logit_tokens.empty(),
            "extract: selected logits requested but no tokens given");
    require(o.batch_size >= 1 && o.chunk_tokens >= 1 && o.chunk_rows >= 1,
            "extract: batch size and chunk tokens must be >= 1");
    std::set<std::string> names;
    for (const auto& p : in.prompts) {
        require(!p.name.empty() &&
                    p.name.find_first_not_of(
                        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
                        std::string::npos &&
                    p.name[0] != '.',
                "prompt name '{}': use letters, digits, '-', '_' and '.' (it names a folder)",
                p.name);
        require(names.insert(p.name).second, "prompt name '{}' is given twice", p.name);
        require(p.embeddings.cols() == in.config.n_embd,
                "prompt '{}' ({}): width {} but the model's n_embd is {}", p.name, p.source,
                p.embeddings.cols(), in.config.n_embd);
    }
    std::map<std::string, size_t> label_index;
    for (size_t k = 0; k < o.label_tokens.size(); ++k) {
        require(label_index.emplace(o.label_tokens[k].label, k).second,
                "--label-tokens: label '{}' is given twice", o.label_tokens[k].label);
    }
    if (!o.label_tokens.empty()) {
        require(ds.has_labels, "--label-tokens: the dataset has no labels");
        require(o.label_tokens.size() >= 2, "--label-tokens: at least two labels are needed");
        for (const auto& r : ds.rows) {
            require(label_index.count(r.label) > 0,
                    "{}: label '{}' has no token in --label-tokens (give LABEL=TOKEN for it)",
                    r.source, r.label);
        }
    }

    // Positions, checked against the model's n_positions before any work.
    std::vector<size_t> lengths(n);
    for (size_t i = 0; i < n; ++i) lengths[i] = tokens.length(i);
    const std::vector<size_t> starts = o.positions == PositionMode::exact
                                           ? lengths
                                           : hf_padded_prompt_starts(lengths, o.batch_size);
    for (const auto& p : in.prompts) {
        const size_t worst =
            static_cast<size_t>(std::max_element(starts.begin(), starts.end()) - starts.begin());
        require(starts[worst] + p.embeddings.rows() <= in.config.n_positions,
                "{}: its prompt '{}' would end at position {} ({} text positions + {} prompt "
                "tokens) but the model has {}; lower --max-length to at most {}",
                ds.rows[worst].source, p.name, starts[worst] + p.embeddings.rows(), starts[worst],
                p.embeddings.rows(), in.config.n_positions,
                in.config.n_positions - p.embeddings.rows());
    }
    // Length-sorted chunks, each cut again to at most chunk_rows rows (full logits of many short
    // texts would otherwise need rows×V floats at once). Boundaries depend only on the lengths.
    std::vector<std::vector<size_t>> chunks;
    for (const auto& c : length_sorted_chunks(lengths, o.chunk_tokens)) {
        for (size_t b = 0; b < c.size(); b += o.chunk_rows) {
            const size_t e = std::min(c.size(), b + o.chunk_rows);
            chunks.emplace_back(c.begin() + long(b), c.begin() + long(e));
        }
    }

    Layout layout;
    layout.n_rows = n;
    layout.n_embd = in.config.n_embd;
    layout.hidden = o.hidden;
    layout.logits = o.logits != LogitsRequest::none;
    layout.logit_cols =
        o.logits == LogitsRequest::full ? in.config.vocab_size : o.logit_tokens.size();
    layout.n_labels = o.label_tokens.size();
    // The prompt pass request: all logits, or the selected tokens followed by the label tokens.
    BatchPromptOptions request;
    std::vector<size_t> label_cols;  // column of each label token in the pass's logits
    if (o.logits == LogitsRequest::full) {
        request.logits = LogitsRequest::full;
        for (const auto& lt : o.label_tokens)
            label_cols.push_back(static_cast<size_t>(lt.token.id));
    } else if (!o.logit_tokens.empty() || !o.label_tokens.empty()) {
        request.logits = LogitsRequest::selected;
        for (const auto& t : o.logit_tokens) request.logit_token_ids.push_back(t.id);
        for (const auto& lt : o.label_tokens) {
            label_cols.push_back(request.logit_token_ids.size());
            request.logit_token_ids.push_back(lt.token.id);
        }
    }
    for (const auto& t : o.logit_tokens) {
        require(t.id >= 0 && static_cast<size_t>(t.id) < in.config.vocab_size,
                "token '{}' has id {}, outside the vocabulary of {}", t.name, t.id,
                in.config.vocab_size);
    }

    ExtractResult result;
    result.identity = identity_of(in, o, starts, chunks);
    result.rows = n;
    result.tokens = tokens.tokens();
    result.chunks = chunks.size();

    // ---- state of the output folder: fresh, resumable, complete, or someone else's ----------
    std::error_code ec;
    fs::create_directories(out, ec);
    require(!ec, "{}: cannot create the output folder: {}", out.string(), ec.message());
    const fs::path journal_path = out / kJournalName;
    const auto targets = npy_targets(out, in, layout);
    std::optional<Journal> journal = read_journal(journal_path);
    if (journal && (journal->identity != result.identity || journal->chunks != chunks.size())) {
        require(o.overwrite,
                "{}: holds an unfinished extraction of other inputs or options (journal identity "
                "{}, this run {}); rerun that command to resume it, or pass --overwrite",
                out.string(), journal->identity, result.identity);
        journal.reset();
    }
    if (!journal && fs::exists(out / "meta.json")) {
        std::ifstream mf(out / "meta.json");
        nlohmann::json meta = nlohmann::json::parse(mf, nullptr, false);
        const bool same = !meta.is_discarded() && meta.value("identity", "") == result.identity;
        bool files_there = same;
        for (const auto& [path, r, c] : targets) files_there = files_there && fs::exists(path);
        if (same && files_there) {
            result.already_complete = true;
            result.accuracy = accuracy_from_files(out, in, o);
            return result;
        }
        require(o.overwrite,
                "{}: already holds the outputs of another extraction (identity {}, this run {}); "
                "pass --overwrite to replace them, or choose another --out",
                out.string(), meta.is_discarded() ? "unreadable" : meta.value("identity", "?"),
                result.identity);
    }
    if (!journal && !o.overwrite) {
        for (const auto& [path, r, c] : targets) {
            require(!fs::exists(path), "{}: exists; pass --overwrite to replace it", path.string());
        }
    }

    // ---- open or create the .npy files and the journal ----------------------------------------
    std::vector<PromptFiles> files(in.prompts.size());
    auto open_writer = [&](const fs::path& path, size_t rows, size_t cols) {
        if (journal) {
            // Killed while committing: files already renamed into place are taken back.
            if (!fs::exists(NpyRowWriter::partial_name(path)) && fs::exists(path)) {
                fs::rename(path, NpyRowWriter::partial_name(path));
            }
            return std::make_unique<NpyRowWriter>(NpyRowWriter::open_existing(path, rows, cols));
        }
        return std::make_unique<NpyRowWriter>(NpyRowWriter::create(path, rows, cols));
    };
    for (size_t p = 0; p < in.prompts.size(); ++p) {
        files[p].dir = out / in.prompts[p].name;
        fs::create_directories(files[p].dir, ec);
        require(!ec, "{}: cannot create it: {}", files[p].dir.string(), ec.message());
        if (layout.hidden)
            files[p].hidden = open_writer(files[p].dir / "hidden.npy", n, layout.n_embd);
        if (layout.logits) {
            files[p].logits = open_writer(files[p].dir / "logits.npy", n, layout.logit_cols);
        }
        if (layout.n_labels > 0) {
            files[p].label_logits =
                open_writer(files[p].dir / "label_logits.npy", n, layout.n_labels);
        }
    }
    std::set<size_t> done;
    if (journal) {
        done = journal->done;
        result.chunks_resumed = done.size();
    } else {
        fs::remove(out / "meta.json", ec);
        for (auto& f : files) {
            for (auto* w : f.all()) w->sync();
        }
        AtomicFile j(journal_path);
        j.write(fmt::format("{}\nidentity {}\nchunks {}\n", kJournalMagic, result.identity,
                            chunks.size()));
        j.commit();
        sync_path(out, O_RDONLY | O_DIRECTORY);
    }
    const int jfd = ::open(journal_path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    require(jfd >= 0, "{}: cannot open it: {}", journal_path.string(), std::strerror(errno));
    struct FdCloser {
        int fd;
        ~FdCloser() { ::close(fd); }
    } jclose{jfd};

    // ---- the chunks ---------------------------------------------------------------------------
    const auto t0 = Clock::now();
    auto last_checkpoint = t0;
    std::vector<size_t> pending;
    auto checkpoint = [&] {
        if (pending.empty()) return;
        for (auto& f : files) {
            for (auto* w : f.all()) w->sync();
        }
        std::string line = "done";
        for (size_t c : pending) line += fmt::format(" {}", c);
        line += '\n';
        append_all(jfd, line, journal_path);
        require(::fdatasync(jfd) == 0, "{}: sync failed: {}", journal_path.string(),
                std::strerror(errno));
        pending.clear();
        last_checkpoint = Clock::now();
    };
    size_t rows_done = 0, rows_run = 0, tokens_run = 0, chunks_run = 0;
    for (size_t c : done) {
        require(c < chunks.size(), "{}: chunk {} of {}", journal_path.string(), c, chunks.size());
        rows_done += chunks[c].size();
    }
    Progress progress("extract", n, "texts");
    progress.update(rows_done,
                    done.empty() ? std::string() : fmt::format("resumed {} chunks", done.size()));
    for (size_t c = 0; c < chunks.size(); ++c) {
        if (done.count(c)) continue;
        const auto& rows = chunks[c];
        PackedTokens packed;
        for (size_t i : rows) packed.add(tokens.sequence(i));
        const PackedKvCache cache = in.backend->text_pass(packed);
        BatchPromptOptions req = request;
        if (o.positions == PositionMode::hf_padded) {
            for (size_t i : rows) req.position_starts.push_back(starts[i]);
        }
        for (size_t p = 0; p < in.prompts.size(); ++p) {
            const BatchPromptResult r =
                in.backend->prompt_pass(cache, in.prompts[p].embeddings, req);
            std::vector<float> label_row(layout.n_labels);
            for (size_t s = 0; s < rows.size(); ++s) {
                const size_t i = rows[s];
                if (layout.hidden) files[p].hidden->write_row(i, r.last_hidden.row(s));
                if (layout.logits) {
                    files[p].logits->write_row(i, r.logits.row(s).subspan(0, layout.logit_cols));
                }
                if (layout.n_labels > 0) {
                    for (size_t k = 0; k < layout.n_labels; ++k) {
                        label_row[k] = r.logits.row(s)[label_cols[k]];
                    }
                    files[p].label_logits->write_row(i, label_row);
                }
            }
        }
        rows_done += rows.size();
        rows_run += rows.size();
        for (size_t i : rows) tokens_run += lengths[i];
        ++chunks_run;
        if (o.abort_after_chunks > 0 && chunks_run == o.abort_after_chunks) {
            std::raise(SIGKILL);  // test hook: die with this chunk written but not journalled
        }
        pending.push_back(c);
        const double since = std::chrono::duration<double>(Clock::now() - last_checkpoint).count();
        if (since >= o.checkpoint_seconds) checkpoint();
        const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
        progress.update(rows_done, fmt::format("{:.0f} tokens/s",
                                               elapsed > 0 ? double(tokens_run) / elapsed : 0.0));
    }
    checkpoint();
    progress.finish();
    result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();

    // ---- finish: rename the .npy files into place, then the small files, then drop the journal
    for (auto& f : files) {
        for (auto* w : f.all()) w->commit();
    }
    std::string labels_txt, rows_jsonl;
    for (size_t i = 0; i < n; ++i) {
        const auto& r = ds.rows[i];
        if (ds.has_labels) labels_txt += r.label + "\n";
        nlohmann::ordered_json j = {{"row", i},
                                    {"label", r.label},
                                    {"source", r.source},
                                    {"tokens", lengths[i]},
                                    {"truncated", in.rows->full_lengths[i] > lengths[i]},
                                    {"prompt_start", starts[i]}};
        rows_jsonl += j.dump() + "\n";
    }
    if (ds.has_labels) write_text_file(out / "labels.txt", labels_txt);
    write_text_file(out / "rows.jsonl", rows_jsonl);
    result.accuracy = accuracy_from_files(out, in, o);
    if (!o.label_tokens.empty()) {
        write_text_file(out / "metrics.json", accuracy_json(result.accuracy, o).dump(2) + "\n");
    }

    nlohmann::ordered_json meta;
    meta["promptlens_version"] = PROMPTLENS_VERSION;
    meta["identity"] = result.identity;
    meta["model"] = {{"path", in.model_path},
                     {"hash", in.model_hash},
                     {"backend", in.backend->name()},
                     {"cpu_kernels", kernel_tier_name(kernel_tier())},  // last bits differ
                     {"n_layer", in.config.n_layer},
                     {"n_embd", in.config.n_embd},
                     {"vocab_size", in.config.vocab_size},
                     {"n_positions", in.config.n_positions}};
    meta["tokenizer"] = in.tokenizer_source;
    std::set<std::string> classes;
    for (const auto& r : ds.rows) classes.insert(r.label);
    meta["dataset"] = {{"path", in.data_path},
                       {"format", ds.format},
                       {"rows", n},
                       {"tokens", tokens.tokens()},
                       {"labelled", ds.has_labels},
                       {"classes", ds.has_labels ? nlohmann::ordered_json(classes)
                                                 : nlohmann::ordered_json::array()}};
    nlohmann::ordered_json prompts = nlohmann::ordered_json::array();
    for (const auto& p : in.prompts) {
        ContentHash h;
        h.bytes(p.embeddings.data(), p.embeddings.size() * sizeof(float));
        prompts.push_back({{"name", p.name},
                           {"source", p.source},
                           {"length", p.embeddings.rows()},
                           {"hash", h.hex()}});
    }
    meta["prompts"] = prompts;
    nlohmann::ordered_json logit_tokens = nlohmann::ordered_json::array();
    for (const auto& t : o.logit_tokens) logit_tokens.push_back({{"token", t.name}, {"id", t.id}});
    nlohmann::ordered_json label_tokens = nlohmann::ordered_json::object();
    for (const auto& t : o.label_tokens)
        label_tokens[t.label] = {{"token", t.token.name}, {"id", t.token.id}};
    const char* logits_name = o.logits == LogitsRequest::full       ? "full"
                              : o.logits == LogitsRequest::selected ? "selected"
                                                                    : "none";
    meta["options"] = {
        {"hidden", o.hidden},           {"logits", logits_name},
        {"logit_tokens", logit_tokens}, {"label_tokens", label_tokens},
        {"max_length", in.max_length},  {"positions", position_mode_name(o.positions)},
        {"batch_size", o.batch_size},   {"chunk_tokens", o.chunk_tokens},
        {"chunk_rows", o.chunk_rows}};
    meta["outputs"] = {
        {"hidden", o.hidden ? "<prompt>/hidden.npy (rows x n_embd float32, after ln_f)" : ""},
        {"logits", layout.logits ? "<prompt>/logits.npy (rows x columns float32)" : ""},
        {"label_logits", layout.n_labels ? "<prompt>/label_logits.npy (rows x label tokens)" : ""}};
    meta["timings"] = {
        {"tokenize_s", in.rows->seconds},
        {"extract_s", result.seconds},
        {"chunks", chunks.size()},
        {"chunks_resumed", result.chunks_resumed},
        {"texts_per_s", result.seconds > 0 ? double(rows_run) / result.seconds : 0.0},
        {"tokens_per_s", result.seconds > 0 ? double(tokens_run) / result.seconds : 0.0}};
    write_text_file(out / "meta.json", meta.dump(2) + "\n");
    sync_path(out, O_RDONLY | O_DIRECTORY);
    fs::remove(journal_path, ec);
    sync_path(out, O_RDONLY | O_DIRECTORY);
    return result;
}

}  // namespace promptlens

namespace promptlens {

std::string gpt2_weights_hash(const Gpt2Weights& w) {
    ContentHash h;
    const auto& c = w.config;
    h.u64(c.n_layer).u64(c.n_head).u64(c.n_embd).u64(c.n_positions).u64(c.vocab_size);
    h.span(w.wte).span(w.wpe);
    for (const auto& l : w.layers) {
        for (auto s : {l.ln_1_w, l.ln_1_b, l.c_attn_w, l.c_attn_b, l.attn_proj_w, l.attn_proj_b,
                       l.ln_2_w, l.ln_2_b, l.fc_w, l.fc_b, l.mlp_proj_w, l.mlp_proj_b}) {
            h.span(s);
        }
    }
    h.span(w.ln_f_w).span(w.ln_f_b);
    if (w.lm_head.data() != w.wte.data()) h.span(w.lm_head);
    return h.hex();
}

}  // namespace promptlens
