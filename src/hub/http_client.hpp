// A small HTTP(S) client over libcurl for the hub downloader: GET into memory, HEAD without
// following redirects (the hub's resolve URLs answer LFS files with a redirect whose headers carry
// the checksum), and a resumable GET that appends a body to an open file.
//
// Failures come in two kinds: `TransferError` (the connection broke, timed out, stalled: worth
// retrying from where the file ends) and a plain `Error` (anything else). HTTP status codes are
// returned, not thrown: the caller knows what a 404 means.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <string>

#include "core/error.hpp"

namespace promptlens {

class TransferError : public Error {
  public:
    using Error::Error;
};

struct HttpResponse {
    long status = 0;
    std::map<std::string, std::string> headers;  // of the final response; names in lower case
    std::string body;  // get(): the body; download(): the body of an error status (≤ 64 KiB)

    // The header's value, or "" when absent.
    std::string header(const std::string& name) const;
};

struct HttpOptions {
    std::string bearer_token = {};  // sent as "Authorization: Bearer …" when not empty
    long connect_timeout_s = 30;
    long stall_timeout_s = 60;  // a transfer slower than 1 byte/s for this long is a TransferError
};

class HttpClient {
  public:
    explicit HttpClient(HttpOptions options = {});
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    HttpResponse get(const std::string& url);   // follows redirects
    HttpResponse head(const std::string& url);  // does not follow redirects

    // GET, following redirects, asking for bytes `offset`… (a Range request) when offset > 0;
    // `out` must stand at `offset`. A 206 body is appended there; a 200 body (a server that
    // ignores ranges) replaces the file's content from its start. `on_bytes(n)` is called with
    // the bytes written so far by this call. Other statuses leave `out` untouched.
    HttpResponse download(const std::string& url, uint64_t offset, std::FILE* out,
                          const std::function<void(uint64_t)>& on_bytes);

  private:
    HttpResponse perform(const std::string& url, bool head, bool follow, uint64_t offset,
                         std::FILE* out, const std::function<void(uint64_t)>* on_bytes);

    HttpOptions options_;
    void* curl_;  // CURL*
};

}  // namespace promptlens
