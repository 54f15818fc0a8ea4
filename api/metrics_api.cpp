#include "api/metrics_api.hpp"

namespace hookyard::api {

void MetricsApi::add_routes(http::RouteTable& table) {
    table.add("GET", "/metrics", "metrics",
              [this](const http::ServerRequest&, const http::PathParams&) { return scrape(); });
}

http::ServerResponse MetricsApi::scrape() {
    auto stats = m_status.stats();
    http::ServerResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = m_metrics.render(stats.ok() ? &*stats : nullptr);
    return r;
}

}  // namespace hookyard::api
