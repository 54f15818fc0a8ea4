#pragma once
// The status routes (GET /healthz, GET /metrics) on a route table over a fake pipeline status, with the
// table observed into the metrics as `serve` does.

#include <gtest/gtest.h>

#include <string>

#include "api/health_api.hpp"
#include "api/metrics_api.hpp"
#include "tests/unit/api/fake_pipeline_status.hpp"

namespace hookyard::test {

class StatusRoutesTest : public ::testing::Test {
protected:
    StatusRoutesTest() {
        m_health.add_routes(m_table);
        m_metrics_api.add_routes(m_table);
        m_table.set_observer([this](std::string_view route, unsigned status, double seconds) {
            m_metrics.observe_request(route, status, seconds);
        });
    }

    http::ServerResponse call(const std::string& method, const std::string& target) {
        http::ServerResponse out;
        m_table.handle(http::ServerRequest{method, target, {}, ""},
                       [&out](http::ServerResponse r) { out = std::move(r); });
        return out;
    }
    bool scraped(const std::string& line) { return call("GET", "/metrics").body.find(line) != std::string::npos; }

    FakePipelineStatus m_status;
    api::Metrics m_metrics;
    api::HealthApi m_health{m_status};
    api::MetricsApi m_metrics_api{m_metrics, m_status};
    http::RouteTable m_table;
};

}  // namespace hookyard::test
