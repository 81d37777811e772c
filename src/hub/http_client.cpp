#include "hub/http_client.hpp"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace promptlens {
namespace {

struct Transfer {
    HttpResponse* response;
    std::FILE* out;
    const std::function<void(uint64_t)>* on_bytes;
    uint64_t offset = 0;  // where `out` stands when the body starts (a Range request)
    uint64_t written = 0;
    bool write_failed = false;
};

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(i);
}

// One header line; a status line ("HTTP/1.1 302 Found") starts a new response (after a redirect),
// so only the final response's headers are kept.
size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::string line(data, size * count);
    if (line.rfind("HTTP/", 0) == 0) {
        t->response->headers.clear();
        const size_t sp = line.find(' ');
        t->response->status = sp == std::string::npos ? 0 : std::atol(line.c_str() + sp + 1);
    } else if (const size_t colon = line.find(':'); colon != std::string::npos) {
        t->response->headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
    }
    return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    const long status = t->response->status;
    if (t->out && (status == 200 || status == 206)) {
        if (status == 200 && t->offset > 0 && t->written == 0) {
            // The server ignored the range and sends the whole file: write it from the start.
            if (std::fflush(t->out) != 0 || std::fseek(t->out, 0, SEEK_SET) != 0 ||
                ::ftruncate(::fileno(t->out), 0) != 0) {
                t->write_failed = true;
                return 0;
            }
            t->offset = 0;
        }
        if (std::fwrite(data, 1, n, t->out) != n) {
            t->write_failed = true;
            return 0;  // aborts the transfer
        }
        t->written += n;
        if (t->on_bytes && *t->on_bytes) (*t->on_bytes)(t->written);
        return n;
    }
    std::string& body = t->response->body;
    constexpr size_t kMaxErrorBody = 64 << 10;
    if (!t->out)
        body.append(data, n);
    else if (body.size() < kMaxErrorBody)
        body.append(data, std::min(n, kMaxErrorBody - body.size()));
    return n;
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
    const auto it = headers.find(lower(name));
    return it == headers.end() ? std::string() : it->second;
}

HttpClient::HttpClient(HttpOptions options) : options_(std::move(options)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl_ = curl_easy_init();
    require(curl_ != nullptr, "http: libcurl could not start");
}

HttpClient::~HttpClient() {
    curl_easy_cleanup(static_cast<CURL*>(curl_));
}

HttpResponse HttpClient::get(const std::string& url) {
    return perform(url, false, true, 0, nullptr, nullptr);
}

HttpResponse HttpClient::head(const std::string& url) {
    return perform(url, true, false, 0, nullptr, nullptr);
}

HttpResponse HttpClient::download(const std::string& url, uint64_t offset, std::FILE* out,
                                  const std::function<void(uint64_t)>& on_bytes) {
    return perform(url, false, true, offset, out, &on_bytes);
}

HttpResponse HttpClient::perform(const std::string& url, bool head, bool follow, uint64_t offset,
                                 std::FILE* out, const std::function<void(uint64_t)>* on_bytes) {
    CURL* c = static_cast<CURL*>(curl_);
    curl_easy_reset(c);
    HttpResponse response;
    Transfer t{&response, out, on_bytes, offset};
    char error[CURL_ERROR_SIZE] = {0};
    curl_slist* headers = nullptr;
    if (!options_.bearer_token.empty())
        headers =
            curl_slist_append(headers, ("Authorization: Bearer " + options_.bearer_token).c_str());
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_USERAGENT, "promptlens/" PROMPTLENS_VERSION);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_NOBODY, head ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    // Credentials go to the endpoint only, never to the host a redirect names (a CDN).
    curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options_.stall_timeout_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    // CURLOPT_RANGE rather than RESUME_FROM: a server that ignores ranges answers 200 and the
    // caller starts over, instead of libcurl failing.
    const std::string range = std::to_string(offset) + "-";
    if (offset > 0) curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
    const CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(headers);
    if (t.write_failed) fail("GET {}: writing the download failed (disk full?)", url);
    if (rc != CURLE_OK) {
        const std::string what = error[0] ? error : curl_easy_strerror(rc);
        const bool retryable = rc == CURLE_PARTIAL_FILE || rc == CURLE_OPERATION_TIMEDOUT ||
                               rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
                               rc == CURLE_GOT_NOTHING || rc == CURLE_COULDNT_CONNECT;
        const std::string msg = fmt::format("{} {}: {}", head ? "HEAD" : "GET", url, what);
        if (retryable) throw TransferError(msg);
        throw Error(msg);
    }
    return response;
}

}  // namespace promptlens
