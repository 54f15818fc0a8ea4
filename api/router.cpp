#include "api/router.hpp"

#include <boost/url/parse.hpp>

namespace hookyard::api {

namespace {
using Clock = std::chrono::steady_clock;
}

std::string_view route_label(std::string_view path) {
    if (path == "/hooks/github") return "github";
    if (path == "/healthz") return "healthz";
    if (path == "/metrics") return "metrics";
    if (path.rfind("/api/v1/trigger/", 0) == 0) return "trigger";
    if (path.rfind("/api/v1/callbacks/", 0) == 0) return "callback";
    if (path.rfind("/api/v1/", 0) == 0) return "api";
    return "other";
}

Router::Router(const config::Config& config, storage::Store& store, Metrics& metrics)
    : m_config(config), m_store(store), m_metrics(metrics) {}

void Router::handle(http::ServerRequest request, http::Responder respond) {
    const auto started = Clock::now();
    auto url = boost::urls::parse_origin_form(request.target);
    const std::string path = url ? std::string(url->path()) : std::string();
    const std::string_view label = route_label(path);
    // Wrap the responder so every answer, synchronous or from the commit thread, is measured.
    http::Responder measured = [this, started, label, respond = std::move(respond)](http::ServerResponse r) {
        m_metrics.observe_request(label, r.status, std::chrono::duration<double>(Clock::now() - started).count());
        respond(std::move(r));
    };
    if (!url) {
        measured(http::json_error(400, "the request target is not a valid path"));
        return;
    }
    auto only = [&](std::string_view method) {
        if (request.method == method) return true;
        http::ServerResponse r = http::json_error(405, "use " + std::string(method) + " for " + path);
        r.headers.emplace_back("Allow", std::string(method));
        measured(std::move(r));
        return false;
    };
    if (path == "/hooks/github") {
        if (only("POST")) github(request, std::move(measured));
    } else if (path == "/healthz") {
        if (only("GET")) measured(healthz());
    } else if (path == "/metrics") {
        if (only("GET")) measured(metrics());
    } else if (path.rfind("/api/v1/callbacks/", 0) == 0) {
        if (only("POST")) measured(callback(request, std::string_view(path).substr(18)));
    } else if (path.rfind("/api/v1/trigger/", 0) == 0) {
        if (only("POST")) measured(trigger(request, std::string_view(path).substr(16)));
    } else if (path.rfind("/api/v1/", 0) == 0) {
        measured(api(request, path));
    } else {
        measured(http::json_error(404, "no such endpoint: " + path));
    }
}

http::ServerResponse Router::healthz() {
    if (auto st = m_store.ping(); !st) return http::json_error(503, "storage unreachable: " + st.error().message);
    return http::json_response(200, R"({"status":"ok"})");
}

http::ServerResponse Router::metrics() {
    auto stats = m_store.stats();
    http::ServerResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = m_metrics.render(stats.ok() ? &*stats : nullptr);
    return r;
}

}  // namespace hookyard::api
