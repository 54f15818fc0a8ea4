#include "api/health_api.hpp"

namespace hookyard::api {

void HealthApi::add_routes(http::RouteTable& table) {
    table.add("GET", "/healthz", "healthz",
              [this](const http::ServerRequest&, const http::PathParams&) { return healthz(); });
}

http::ServerResponse HealthApi::healthz() {
    if (auto st = m_status.health(); !st) return http::json_error(503, st.error().message);
    return http::json_response(200, R"({"status":"ok"})");
}

}  // namespace hookyard::api
