#pragma once
// Routing without sockets: (method, path pattern) → handler. A pattern is an absolute path whose segments
// are literals or {name} placeholders ("/api/v1/builds/{id}/log"); a placeholder matches exactly one
// non-empty, percent-decoded segment and is handed to the handler by name. Unknown paths get a JSON 404,
// a known path with another method a JSON 405 with an Allow header. Every answer — synchronous or later,
// routed or not — is reported to the observer with the route's label, its status and its latency.

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/server_types.hpp"

namespace hookyard::http {

// The placeholders of a matched pattern, by name.
class PathParams {
public:
    // The value of placeholder `name`; "" when the pattern has none of that name.
    const std::string& get(std::string_view name) const;
    void set(std::string name, std::string value) { m_values.emplace_back(std::move(name), std::move(value)); }

private:
    std::vector<std::pair<std::string, std::string>> m_values;
};

// Answers a routed request through the responder, exactly once, now or later. The request and params are
// valid only during the call: copy what a later answer needs.
using RouteHandler = std::function<void(const ServerRequest&, const PathParams&, Responder)>;
// A handler that answers before it returns.
using SyncRouteHandler = std::function<ServerResponse(const ServerRequest&, const PathParams&)>;
// Called once per answered request with the matched route's label ("other" when no route matched), the
// status and the seconds from dispatch to answer; on whatever thread answers.
using RouteObserver = std::function<void(std::string_view label, unsigned status, double seconds)>;

// The label of requests no route matched.
inline constexpr std::string_view k_unrouted_label = "other";

class RouteTable {
public:
    // Adds a route; `label` names it in metrics. Throws std::invalid_argument for a pattern that is not
    // absolute or has an empty or unterminated placeholder, and for a (method, pattern) already added.
    void add_async(std::string method, std::string_view pattern, std::string label, RouteHandler handler);
    void add(std::string method, std::string_view pattern, std::string label, SyncRouteHandler handler);
    // Receives every answer from now on. Set before serving; may be empty.
    void set_observer(RouteObserver observer) { m_observer = std::move(observer); }

    // Dispatches one request, answering through `respond` exactly once. Thread-safe once the table is no
    // longer modified.
    void handle(ServerRequest request, Responder respond) const;
    // handle() as the server's RequestHandler; the table must outlive it.
    RequestHandler handler() const;

private:
    struct Route {
        std::string method;
        std::string pattern;
        std::vector<std::string> segments;  // "{name}" for placeholders
        std::string label;
        RouteHandler handler;
    };
    static bool match(const Route& route, const std::vector<std::string>& segments, PathParams& params);
    Responder observed(std::string_view label, Responder respond) const;

    std::vector<Route> m_routes;
    RouteObserver m_observer;
};

}  // namespace hookyard::http
