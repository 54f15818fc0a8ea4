#include "api/health_api.hpp"

#include <nlohmann/json.hpp>

#include "util/json.hpp"

namespace hookyard::api {

void HealthApi::add_routes(http::RouteTable& table) {
    table.add("GET", "/healthz", "healthz",
              [this](const http::ServerRequest&, const http::PathParams&) { return healthz(); });
}

http::ServerResponse HealthApi::healthz() {
    if (auto st = m_status.health(); !st) return http::json_error(503, st.error().message);
    // Degraded stays 200: an instance that still takes webhooks must stay in its load balancer.
    if (auto reasons = m_status.degraded(); !reasons.empty()) {
        return http::json_response(200,
                                   util::to_json_string(nlohmann::json{{"status", "degraded"}, {"reasons", reasons}}));
    }
    return http::json_response(200, R"({"status":"ok"})");
}

}  // namespace hookyard::api
