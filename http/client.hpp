#pragma once
// The shared HTTP(S) client: Boost.Beast over plain TCP or OpenSSL TLS (system CAs or a given CA file,
// SNI, host-name verification), keep-alive connections pooled per scheme/host/port, connect and I/O
// timeouts, request bodies streamed from files and response bodies streamed to a callback.
// Used by the registry push client, outbound webhooks and GitHub commit statuses.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/status.hpp"
#include "util/result.hpp"

namespace hookyard::http {

// Header fields in the order they are sent or were received; names compare case-insensitively.
using Headers = std::vector<std::pair<std::string, std::string>>;

// Returns the first value of header `name` (case-insensitive), or "" when absent.
std::string find_header(const Headers& headers, std::string_view name);

// A byte range of a file sent as a request body; `length` empty = to the end of the file.
struct FileRange {
    std::string path;
    std::uint64_t offset = 0;
    std::optional<std::uint64_t> length;
};

struct Request {
    std::string method = "GET";
    std::string url;  // absolute http:// or https:// URL; userinfo in it is refused (use headers)
    Headers headers;  // Host, Content-Length and User-Agent are set by the client unless given
    // The body: `body_file` when set (streamed from disk, never read whole), else `body`.
    std::string body;
    std::optional<FileRange> body_file;
    // Sees every body chunk as it is written, with its offset inside the body. A retry on a fresh
    // connection starts again at offset 0, so an observer that hashes must restart there.
    std::function<void(std::uint64_t offset, std::string_view chunk)> on_body_sent;
    // When set, the response body is handed over chunk by chunk (Response::body stays empty); an error
    // returned from it aborts the request with that error.
    std::function<util::Status(std::string_view chunk)> on_response_data;
    // Upper bound on a buffered response body (ignored when on_response_data is set).
    std::size_t max_response_body = 16u << 20;
    // Per-operation I/O timeout (each write or read must progress within it); 0 = the client's default.
    std::chrono::milliseconds timeout{0};
    // When set, polled (every 100 ms) while the request waits on the network: once true, the request ends
    // with ErrorKind::canceled and its connection is closed. Must outlive the call.
    const std::atomic<bool>* abort = nullptr;
};

struct Response {
    int status = 0;
    Headers headers;
    std::string body;
    // First value of header `name`, or "".
    std::string header(std::string_view name) const { return find_header(headers, name); }
};

struct ClientOptions {
    // PEM file of extra trusted CAs; empty = the system's default verify paths only.
    std::string ca_file;
    // false turns off certificate verification (tests and explicitly configured endpoints only).
    bool verify_tls = true;
    std::chrono::milliseconds connect_timeout{10000};
    std::chrono::milliseconds io_timeout{60000};
    // Idle keep-alive connections kept per scheme/host/port.
    std::size_t max_idle_per_host = 8;
    std::string user_agent = "hookyard/0.1";
    // Size of the buffer used to stream bodies (request and response).
    std::size_t stream_buffer_size = 256u << 10;
};

// A synchronous HTTP client. Thread-safe: any number of threads may call request() at once; each call
// takes its own connection (reused from the idle pool when one is open) for the whole exchange.
class Client {
public:
    virtual ~Client() = default;
    // Sends one request and reads the whole response (redirects are not followed: 3xx come back as
    // responses). Any HTTP status is a success here. Errors: invalid_input for a bad URL, an unreadable
    // body file or a TLS certificate that fails verification; timeout when an operation exceeds its
    // timeout; transient for refused/reset/closed connections and other network faults. A pooled
    // connection that turns out to be closed by the server is replaced once, transparently.
    virtual util::Result<Response> request(const Request& request) = 0;
};

// Creates a client; fails (invalid_input) when the CA file cannot be loaded.
util::Result<std::unique_ptr<Client>> make_client(ClientOptions options = {});

// "Basic base64(user:password)" for an Authorization header.
std::string basic_authorization(std::string_view user, std::string_view password);

// Standard base64 (with padding) of `data`, and its inverse (returns nullopt on malformed input).
std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace hookyard::http
