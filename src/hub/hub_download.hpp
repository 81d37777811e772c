// `promptlens download`: fetches a model repository from the HuggingFace hub (or any server with
// its URL layout: $HF_ENDPOINT) into the HuggingFace cache layout that transformers and
// `resolve_model_dir` read:
//
//   <cache>/models--<org>--<name>/blobs/<etag>               the files' bytes, named by checksum
//   <cache>/models--<org>--<name>/snapshots/<commit>/<file>  → ../../blobs/<etag> (relative link)
//   <cache>/models--<org>--<name>/refs/<revision>            the commit a branch name resolved to
//
// What is fetched: the files a GPT-2 needs, as transformers' from_pretrained fetches them —
// config.json, model.safetensors (else pytorch_model.bin), and those of vocab.json, merges.txt,
// tokenizer.json, tokenizer_config.json, special_tokens_map.json and generation_config.json the
// repository has (the revision's file list comes from /api/models/<repo>/revision/<rev>).
//
// Each file goes to blobs/<etag>.incomplete first. An interrupted download (killed, connection
// lost) resumes from the bytes already there with a Range request; broken connections are
// retried. A finished file is verified — SHA-256 for LFS files, the git blob SHA-1 otherwise —
// before it is renamed to its blob name and linked into the snapshot, so the cache never holds a
// file that looks whole and is not. Files already in the cache are not fetched again.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "model/hub_cache.hpp"

namespace promptlens {

struct HubDownloadOptions {
    std::string endpoint = {};  // "" = env.hf_endpoint ($HF_ENDPOINT), else https://huggingface.co
    std::string revision = "main";
    std::string token = {};  // "" = env.hf_token ($HF_TOKEN; sent to the endpoint only)
    HubCacheEnv env = HubCacheEnv::from_environment();
    int retries = 3;     // per file, after a broken connection
    bool quiet = false;  // no per-file lines on stderr
};

struct HubDownloadResult {
    std::filesystem::path snapshot;  // the folder to load the model from
    std::string commit;
    std::vector<std::string> fetched, cached;  // file names
    uint64_t bytes_fetched = 0;
};

HubDownloadResult download_model(const std::string& repo, const HubDownloadOptions& options = {});

}  // namespace promptlens
