#pragma once
// Transport-free HTTP request and response values: a route handler turns one into the other, the Beast
// server (server.hpp) moves them over sockets, and unit tests build them by hand.

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.hpp"

namespace hookyard::http {

// GitHub's cap on a webhook payload; larger bodies get 413.
constexpr std::size_t k_max_body_bytes = 25 * 1024 * 1024;

struct ServerRequest {
    std::string method;                          // "GET", "POST", …
    std::string target;                          // path plus query, "/api/v1/builds?state=queued"
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;                            // raw bytes, exactly as received
    std::string remote_address = "";             // the client's IP address ("" when unknown)

    // The header's value, or "" when absent. `name` must be lower-case.
    std::string header(std::string_view name) const;
};

// One step of a streamed body: the next bytes (empty when nothing new yet) and whether the body is complete.
struct StreamStep {
    std::string data;
    bool done = false;
};
// Produces a streamed body (chunked transfer encoding), e.g. a build log that is still growing. The server
// calls it on the connection's strand until it reports done, pausing briefly after each empty step; it must
// not block. Dropped (never called again) when the client goes away or the server stops.
using BodyStream = std::function<StreamStep()>;

struct ServerResponse {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers
    BodyStream stream;  // when set: `body` is ignored, the body is streamed, the connection closes after it
};

// Completes a request; called exactly once per request, from any thread.
using Responder = std::function<void(ServerResponse)>;
// Handles one request, answering through the responder now or later. Must not block for long.
using RequestHandler = std::function<void(ServerRequest, Responder)>;

// {"error": message} with `status`.
ServerResponse json_error(unsigned status, std::string_view message);
// {"error": e.message} with the status that names the class of e (http/status.hpp).
ServerResponse json_error(const util::Error& e);
// A JSON body (already serialised) with `status`.
ServerResponse json_response(unsigned status, std::string body);

}  // namespace hookyard::http
