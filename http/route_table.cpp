#include "http/route_table.hpp"

#include <atomic>
#include <boost/url/parse.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <stdexcept>

#include "util/log.hpp"

namespace hookyard::http {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> pattern_segments(std::string_view pattern) {
    if (pattern.empty() || pattern.front() != '/') {
        throw std::invalid_argument("route pattern '" + std::string(pattern) + "' must start with /");
    }
    std::vector<std::string> out;
    if (pattern == "/") return out;  // the root has no segments, as boost::urls sees it
    std::size_t start = 1;
    while (start <= pattern.size()) {
        const std::size_t end = std::min(pattern.find('/', start), pattern.size());
        std::string segment(pattern.substr(start, end - start));
        const bool opens = segment.starts_with('{');
        if (opens != segment.ends_with('}') || segment == "{}") {
            throw std::invalid_argument("route pattern '" + std::string(pattern) + "' has a malformed placeholder");
        }
        out.push_back(std::move(segment));
        start = end + 1;
    }
    return out;
}

bool is_placeholder(const std::string& segment) { return segment.size() > 2 && segment.front() == '{'; }

std::string join_methods(const std::vector<std::string>& methods) {
    std::string out;
    for (const auto& m : methods) out += (out.empty() ? "" : ", ") + m;
    return out;
}

// One responder shared by the handler and the exception guard: whichever answers first answers; the other
// finds it taken. Taking moves the responder out, so the connection it holds is released by the caller.
struct OnceResponder {
    std::atomic<bool> taken{false};
    Responder respond;

    void answer(ServerResponse r) {
        if (taken.exchange(true)) return;
        Responder local = std::move(respond);
        local(std::move(r));
    }
};

// Runs the handler; an exception it throws (before or after answering) becomes a 500 for this request only,
// logged with its cause, instead of unwinding into the io thread and ending the process.
void call_guarded(const RouteHandler& handler, const ServerRequest& request, const PathParams& params,
                  const std::string& label, Responder respond) {
    auto once = std::make_shared<OnceResponder>();
    once->respond = std::move(respond);
    std::string cause;
    try {
        handler(request, params, [once](ServerResponse r) { once->answer(std::move(r)); });
        return;
    } catch (const std::exception& e) {
        cause = e.what();
    } catch (...) {
        cause = "unknown exception";
    }
    util::log_error("http", "route " + label + " (" + request.method + " " + request.target + ") threw: " + cause);
    once->answer(json_error(500, "internal error: " + cause));
}

}  // namespace

const std::string& PathParams::get(std::string_view name) const {
    static const std::string k_none;
    for (const auto& [key, value] : m_values) {
        if (key == name) return value;
    }
    return k_none;
}

void RouteTable::add_async(std::string method, std::string_view pattern, std::string label, RouteHandler handler) {
    for (const auto& r : m_routes) {
        if (r.method == method && r.pattern == pattern) {
            throw std::invalid_argument("route " + method + " " + std::string(pattern) + " added twice");
        }
    }
    m_routes.push_back(Route{std::move(method), std::string(pattern), pattern_segments(pattern), std::move(label),
                             std::move(handler)});
}

void RouteTable::add(std::string method, std::string_view pattern, std::string label, SyncRouteHandler handler) {
    add_async(std::move(method), pattern, std::move(label),
              [handler = std::move(handler)](const ServerRequest& req, const PathParams& params, Responder respond) {
                  respond(handler(req, params));
              });
}

bool RouteTable::match(const Route& route, const std::vector<std::string>& segments, PathParams& params) {
    if (route.segments.size() != segments.size()) return false;
    PathParams found;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        const std::string& want = route.segments[i];
        if (!is_placeholder(want)) {
            if (want != segments[i]) return false;
        } else {
            if (segments[i].empty()) return false;
            found.set(want.substr(1, want.size() - 2), segments[i]);
        }
    }
    params = std::move(found);
    return true;
}

Responder RouteTable::observed(std::string_view label, Responder respond) const {
    if (!m_observer) return respond;
    // Wrapped so every answer, synchronous or from another thread, is measured the same way.
    return [observer = m_observer, label = std::string(label), started = Clock::now(),
            respond = std::move(respond)](ServerResponse r) {
        observer(label, r.status, std::chrono::duration<double>(Clock::now() - started).count());
        respond(std::move(r));
    };
}

void RouteTable::handle(ServerRequest request, Responder respond) const {
    auto url = boost::urls::parse_origin_form(request.target);
    if (!url) {
        observed(k_unrouted_label, std::move(respond))(json_error(400, "the request target is not a valid path"));
        return;
    }
    const std::string path(url->path());
    std::vector<std::string> segments;
    for (auto segment : url->segments()) segments.push_back(std::string(segment));

    const Route* path_match = nullptr;
    std::vector<std::string> allowed;
    for (const auto& route : m_routes) {
        PathParams params;
        if (!match(route, segments, params)) continue;
        if (route.method == request.method) {
            call_guarded(route.handler, request, params, route.label, observed(route.label, std::move(respond)));
            return;
        }
        if (path_match == nullptr) path_match = &route;
        allowed.push_back(route.method);
    }
    if (path_match == nullptr) {
        observed(k_unrouted_label, std::move(respond))(json_error(404, "no such endpoint: " + path));
        return;
    }
    const std::string allow = join_methods(allowed);
    ServerResponse r = json_error(405, "use " + allow + " for " + path);
    r.headers.emplace_back("Allow", allow);
    observed(path_match->label, std::move(respond))(std::move(r));
}

RequestHandler RouteTable::handler() const {
    return [this](ServerRequest request, Responder respond) { handle(std::move(request), std::move(respond)); };
}

}  // namespace hookyard::http
