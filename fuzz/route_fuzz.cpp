// libFuzzer target: request-target parsing and matching in http::RouteTable (http/route_table.hpp), over
// the routes `hookyard serve` registers. The first byte picks the method, the rest is the request target.
// Every request is answered exactly once with 200 (routed), 400, 404 or 405, and a routed request has
// every placeholder of its pattern non-empty.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/route_table.hpp"

namespace {

using hookyard::http::PathParams;
using hookyard::http::RouteTable;
using hookyard::http::ServerRequest;
using hookyard::http::ServerResponse;

// A handler that checks the placeholders it was given, then answers 200.
hookyard::http::SyncRouteHandler expecting(std::initializer_list<const char*> names) {
    return
        [names = std::vector<std::string>(names.begin(), names.end())](const ServerRequest&, const PathParams& params) {
            for (const auto& name : names) {
                if (params.get(name).empty()) __builtin_trap();
            }
            return ServerResponse{};
        };
}

const RouteTable& table() {
    static const RouteTable k_table = [] {
        RouteTable r;
        r.add("GET", "/healthz", "healthz", expecting({}));
        r.add("GET", "/metrics", "metrics", expecting({}));
        r.add("POST", "/hooks/github", "github", expecting({}));
        r.add("POST", "/api/v1/trigger/{token}", "trigger", expecting({"token"}));
        r.add("POST", "/api/v1/callbacks/{id}/{token}", "callback", expecting({"id", "token"}));
        r.add("GET", "/api/v1/builds", "api", expecting({}));
        r.add("GET", "/api/v1/builds/{id}", "api", expecting({"id"}));
        r.add("GET", "/api/v1/builds/{id}/log", "api", expecting({"id"}));
        r.add("POST", "/api/v1/builds/{id}/cancel", "api", expecting({"id"}));
        r.add("GET", "/", "root", expecting({}));
        return r;
    }();
    return k_table;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static constexpr const char* k_methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD"};
    ServerRequest request;
    request.method = k_methods[data[0] % std::size(k_methods)];
    request.target.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
    int answers = 0;
    unsigned status = 0;
    table().handle(std::move(request), [&](ServerResponse r) {
        ++answers;
        status = r.status;
    });
    if (answers != 1) __builtin_trap();
    if (status != 200 && status != 400 && status != 404 && status != 405) __builtin_trap();
    return 0;
}
