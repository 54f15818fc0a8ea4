#pragma once
// Transport-free HTTP request and response values: the router turns one into the other, the Beast
// server (server.hpp) moves them over sockets, and unit tests build them by hand.

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hookyard::webhook {

// GitHub's cap on a webhook payload; larger bodies get 413.
constexpr std::size_t k_max_body_bytes = 25 * 1024 * 1024;

struct Request {
    std::string method;                         // "GET", "POST", …
    std::string target;                         // path plus query, "/api/v1/builds?state=queued"
    std::map<std::string, std::string> headers; // names lower-cased
    std::string body;                           // raw bytes, exactly as received

    // The header's value, or "" when absent. `name` must be lower-case.
    std::string header(std::string_view name) const;
};

struct Response {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// Completes a request; called exactly once per request, from any thread.
using Responder = std::function<void(Response)>;
// Handles one request, answering through the responder now or later. Must not block for long.
using RequestHandler = std::function<void(Request, Responder)>;

// {"error": message} with `status`.
Response json_error(unsigned status, std::string_view message);
// A JSON body (already serialised) with `status`.
Response json_response(unsigned status, std::string body);

}  // namespace hookyard::webhook
