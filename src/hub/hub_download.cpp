#include "hub/hub_download.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <set>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "hub/digest.hpp"
#include "hub/http_client.hpp"

namespace promptlens {
namespace fs = std::filesystem;

namespace {

bool is_hex(const std::string& s, size_t n) {
    if (s.size() != n) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

// `W/"abc"` or `"abc"` → abc (the hub quotes its ETags).
std::string bare_etag(std::string e) {
    if (e.rfind("W/", 0) == 0) e = e.substr(2);
    if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
    return e;
}

void check_repo_name(const std::string& repo) {
    require(!repo.empty() && repo.find("..") == std::string::npos && repo.front() != '/' &&
                repo.back() != '/' && std::count(repo.begin(), repo.end(), '/') <= 1,
            "download: '{}' is not a hub repository name (expected 'name' or 'org/name')", repo);
    for (char c : repo)
        require(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
                    c == '/',
                "download: '{}' is not a hub repository name (letters, digits, '-', '_', '.', "
                "one '/')",
                repo);
}

// What transformers' from_pretrained fetches for a GPT-2, of what the revision has.
std::vector<std::string> files_to_fetch(const std::set<std::string>& have,
                                        const std::string& repo) {
    require(have.count("config.json"), "download: {} has no config.json: not a transformers model",
            repo);
    std::vector<std::string> files = {"config.json"};
    if (have.count("model.safetensors"))
        files.push_back("model.safetensors");
    else if (have.count("pytorch_model.bin"))
        files.push_back("pytorch_model.bin");
    else if (have.count("model.safetensors.index.json"))
        fail(
            "download: {} has only a sharded checkpoint (model.safetensors.index.json), which "
            "promptlens does not read",
            repo);
    else
        fail("download: {} has neither model.safetensors nor pytorch_model.bin", repo);
    for (const char* f : {"vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json",
                          "special_tokens_map.json", "generation_config.json"})
        if (have.count(f)) files.push_back(f);
    return files;
}

struct Remote {
    std::string etag;
    uint64_t size = 0;
    bool lfs = false;
};

// Fetches `url` into `partial`, resuming from what is there; retries broken connections.
uint64_t fetch(HttpClient& http, const std::string& url, const fs::path& partial,
               const Remote& remote, const std::string& name, const HubDownloadOptions& o) {
    uint64_t fetched = 0;
    for (int attempt = 0;; ++attempt) {
        std::error_code ec;
        uint64_t have = fs::exists(partial, ec) ? fs::file_size(partial, ec) : 0;
        if (have > remote.size) {  // not the file we expect: start over
            fs::remove(partial, ec);
            have = 0;
        }
        if (have == remote.size && remote.size > 0) return fetched;
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(partial.c_str(), "r+b"),
                                                          std::fclose);
        if (!f) f.reset(std::fopen(partial.c_str(), "w+b"));
        require(f != nullptr, "download: cannot write {}", partial.string());
        std::setvbuf(f.get(), nullptr, _IONBF, 0);  // what arrived is on disk if we are killed
        std::fseek(f.get(), long(have), SEEK_SET);
        if (have > 0 && !o.quiet)
            fmt::print(stderr, "download: {}: resuming at byte {} of {}\n", name, have,
                       remote.size);
        Progress progress("download " + name, remote.size, "bytes");
        progress.update(have);
        uint64_t got = 0;
        try {
            const HttpResponse r = http.download(url, have, f.get(), [&](uint64_t n) {
                got = n;
                progress.update(have + n);
            });
            if (r.status >= 500)  // the server's trouble: worth another try
                throw TransferError(fmt::format("GET {}: HTTP {}", url, r.status));
            require(r.status == 200 || r.status == 206, "download: GET {}: HTTP {}{}", url,
                    r.status, r.body.empty() ? "" : ": " + r.body.substr(0, 200));
            require(std::fflush(f.get()) == 0 && ::fsync(fileno(f.get())) == 0,
                    "download: writing {} failed", partial.string());
            progress.finish();
            fetched += got;
            const uint64_t now = fs::file_size(partial, ec);
            require(now == remote.size, "download: {}: got {} bytes, the server announced {}", name,
                    now, remote.size);
            return fetched;
        } catch (const TransferError& e) {
            fetched += got;
            if (attempt >= o.retries)
                throw Error(fmt::format("download: {} (after {} retries)", e.what(), o.retries));
            if (!o.quiet)
                fmt::print(stderr, "download: {}: {}; retrying ({}/{})\n", name, e.what(),
                           attempt + 1, o.retries);
        }
    }
}

void verify(const fs::path& file, const Remote& remote, const std::string& name) {
    std::string got, kind;
    if (is_hex(remote.etag, 64)) {
        got = sha256_file(file);
        kind = "SHA-256";
    } else if (is_hex(remote.etag, 40)) {
        got = git_blob_sha1_file(file);
        kind = "git blob SHA-1";
    } else {
        return;  // an ETag that is no checksum: the size check above is all there is
    }
    if (got != remote.etag) {
        std::error_code ec;
        fs::remove(file, ec);
        fail(
            "download: {}: checksum mismatch ({} {} expected, {} received); the partial file "
            "was removed, run the command again",
            name, kind, remote.etag, got);
    }
}

// snapshots/<commit>/<name> → ../../blobs/<etag>, replaced atomically.
void link_into_snapshot(const fs::path& repo_dir, const std::string& commit,
                        const std::string& name, const std::string& etag) {
    const fs::path snap = repo_dir / "snapshots" / commit;
    fs::create_directories(snap);
    const fs::path link = snap / name, temp = snap / ("." + name + ".link");
    std::error_code ec;
    fs::remove(temp, ec);
    fs::create_symlink(fs::path("..") / ".." / "blobs" / etag, temp);
    fs::rename(temp, link);
}

}  // namespace

HubDownloadResult download_model(const std::string& repo, const HubDownloadOptions& o) {
    check_repo_name(repo);
    std::string endpoint = !o.endpoint.empty()          ? o.endpoint
                           : !o.env.hf_endpoint.empty() ? o.env.hf_endpoint
                                                        : std::string("https://huggingface.co");
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    HttpClient http({.bearer_token = o.token.empty() ? o.env.hf_token : o.token});

    // The revision's commit and file list.
    const std::string api = fmt::format("{}/api/models/{}/revision/{}", endpoint, repo, o.revision);
    HttpResponse info;
    try {
        info = http.get(api);
    } catch (const Error& e) {
        fail(
            "download: cannot reach the hub at {} ({}); check the network, or set HF_ENDPOINT / "
            "--endpoint",
            endpoint, e.what());
    }
    require(info.status != 401 && info.status != 403,
            "download: {}: HTTP {}: the repository is private or gated; set HF_TOKEN", api,
            info.status);
    require(info.status != 404,
            "download: {}: HTTP 404: no repository '{}' with revision '{}' at {}", api, repo,
            o.revision, endpoint);
    require(info.status == 200, "download: {}: HTTP {}", api, info.status);
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(info.body);
    } catch (const std::exception& e) {
        fail("download: {}: the answer is not JSON ({})", api, e.what());
    }
    require(j.is_object() && j.contains("sha") && j["sha"].is_string() && j.contains("siblings") &&
                j["siblings"].is_array(),
            "download: {}: expected an object with 'sha' and 'siblings'", api);
    HubDownloadResult result;
    result.commit = j["sha"].get<std::string>();
    require(is_hex(result.commit, 40), "download: {}: 'sha' is not a commit id", api);
    std::set<std::string> have;
    for (const auto& s : j["siblings"])
        if (s.is_object() && s.contains("rfilename") && s["rfilename"].is_string())
            have.insert(s["rfilename"].get<std::string>());

    const fs::path repo_dir = hub_cache_dir(o.env).dir / hub_repo_folder(repo);
    fs::create_directories(repo_dir / "blobs");
    for (const std::string& name : files_to_fetch(have, repo)) {
        const std::string url =
            fmt::format("{}/{}/resolve/{}/{}", endpoint, repo, result.commit, name);
        const HttpResponse h = http.head(url);
        require(h.status == 200 || (h.status >= 301 && h.status <= 308),
                "download: HEAD {}: HTTP {}", url, h.status);
        Remote remote;
        const std::string linked = h.header("x-linked-etag");
        remote.lfs = !linked.empty();
        remote.etag = bare_etag(remote.lfs ? linked : h.header("etag"));
        const std::string size =
            remote.lfs ? h.header("x-linked-size") : h.header("content-length");
        require(!remote.etag.empty() && !size.empty(),
                "download: HEAD {}: no ETag or size in the answer (is {} a HuggingFace hub?)", url,
                endpoint);
        require(
            remote.etag.find('/') == std::string::npos && remote.etag != "." && remote.etag != "..",
            "download: HEAD {}: unusable ETag '{}'", url, remote.etag);
        remote.size = std::stoull(size);

        const fs::path blob = repo_dir / "blobs" / remote.etag;
        std::error_code ec;
        if (fs::exists(blob, ec) && fs::file_size(blob, ec) == remote.size) {
            result.cached.push_back(name);
        } else {
            const fs::path partial = repo_dir / "blobs" / (remote.etag + ".incomplete");
            result.bytes_fetched += fetch(http, url, partial, remote, name, o);
            verify(partial, remote, name);
            fs::rename(partial, blob);
            result.fetched.push_back(name);
            if (!o.quiet)
                fmt::print(stderr, "download: {} ({} bytes, {} verified)\n", name, remote.size,
                           is_hex(remote.etag, 64) ? "SHA-256" : "git SHA-1");
        }
        link_into_snapshot(repo_dir, result.commit, name, remote.etag);
    }
    if (o.revision != result.commit) {
        fs::create_directories((repo_dir / "refs" / o.revision).parent_path());
        write_text_file(repo_dir / "refs" / o.revision, result.commit);
    }
    result.snapshot = repo_dir / "snapshots" / result.commit;
    return result;
}

}  // namespace promptlens
