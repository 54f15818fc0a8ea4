#pragma once
// THE HTTP test client: a deliberately dumb HTTP/1.1 client on plain POSIX sockets, for tests that talk to
// hookyard's server (or any loopback server): it can send anything (malformed, slow, oversized), and reads
// one response with a deadline.

#include <chrono>
#include <map>
#include <string>

namespace hookyard::test {

struct Reply {
    int status = 0;                              // 0 when no response arrived (connection closed or timed out)
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
};

// Connects to 127.0.0.1:port, sends `raw` as is, reads one response (Content-Length framed) or until the
// server closes, within `timeout`.
Reply raw_request(int port, const std::string& raw, std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Connects, sends `raw`, and returns every byte the server sends until it closes (or `timeout`).
std::string raw_exchange(int port, const std::string& raw,
                         std::chrono::milliseconds timeout = std::chrono::seconds(20));

// A well-formed request with Connection: close and a Content-Length.
Reply http_request(int port, const std::string& method, const std::string& target,
                   const std::map<std::string, std::string>& headers = {}, const std::string& body = "");

// POST /hooks/github signed with `secret` (no signature header when secret is empty).
Reply post_github(int port, const std::string& secret, const std::string& event, const std::string& delivery,
                  const std::string& body, const std::string& content_type = "application/json");

}  // namespace hookyard::test
