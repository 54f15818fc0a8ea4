// GET /healthz and GET /metrics over a fake pipeline status.

#include <gtest/gtest.h>

#include "api/health_api.hpp"
#include "api/metrics_api.hpp"
#include "tests/unit/api/fake_pipeline_status.hpp"

using namespace hookyard;
using Request = http::ServerRequest;

namespace {

class HealthMetricsTest : public ::testing::Test {
protected:
    HealthMetricsTest() {
        m_health.add_routes(m_table);
        m_metrics_api.add_routes(m_table);
        m_table.set_observer([this](std::string_view route, unsigned status, double seconds) {
            m_metrics.observe_request(route, status, seconds);
        });
    }

    http::ServerResponse call(const std::string& method, const std::string& target) {
        http::ServerResponse out;
        m_table.handle(Request{method, target, {}, ""}, [&out](http::ServerResponse r) { out = std::move(r); });
        return out;
    }
    bool scraped(const std::string& line) { return call("GET", "/metrics").body.find(line) != std::string::npos; }

    test::FakePipelineStatus m_status;
    api::Metrics m_metrics;
    api::HealthApi m_health{m_status};
    api::MetricsApi m_metrics_api{m_metrics, m_status};
    http::RouteTable m_table;
};

}  // namespace

TEST_F(HealthMetricsTest, HealthzIsOkWhileThePipelineIsAnd503WhenNot) {
    auto ok = call("GET", "/healthz");
    EXPECT_EQ(ok.status, 200u);
    EXPECT_EQ(ok.body, "{\"status\":\"ok\"}\n");
    m_status.healthy = false;
    auto down = call("GET", "/healthz");
    EXPECT_EQ(down.status, 503u);
    EXPECT_EQ(down.body, "{\"error\":\"storage unreachable: disk on fire\"}\n");
    EXPECT_EQ(call("POST", "/healthz").status, 405u);
}

TEST_F(HealthMetricsTest, MetricsShowQueueDepthAndBuildsByStateFromTheStatus) {
    m_status.counts.builds_by_state[storage::BuildState::queued] = 3;
    m_status.counts.builds_by_state[storage::BuildState::running] = 1;
    m_status.counts.deliveries = 7;
    auto m = call("GET", "/metrics");
    EXPECT_EQ(m.status, 200u);
    EXPECT_EQ(m.content_type, "text/plain; version=0.0.4");
    EXPECT_NE(m.body.find("hookyard_queue_depth 3"), std::string::npos) << m.body;
    EXPECT_NE(m.body.find("hookyard_builds{state=\"running\"} 1"), std::string::npos);
    EXPECT_NE(m.body.find("hookyard_builds{state=\"failed\"} 0"), std::string::npos);
    EXPECT_NE(m.body.find("hookyard_stored_deliveries 7"), std::string::npos);
    EXPECT_NE(m.body.find("hookyard_store_up 1"), std::string::npos);
    m_status.healthy = false;
    EXPECT_TRUE(scraped("hookyard_store_up 0"));
    EXPECT_FALSE(scraped("hookyard_queue_depth"));
}

TEST_F(HealthMetricsTest, MetricsCountRequestsByRouteLabelAndStatus) {
    call("GET", "/healthz");
    call("GET", "/healthz");
    call("GET", "/nowhere");
    m_metrics.count_delivery("push", "duplicate");
    auto m = call("GET", "/metrics");
    EXPECT_NE(m.body.find("hookyard_http_requests_total{route=\"healthz\",status=\"200\"} 2"), std::string::npos)
        << m.body;
    EXPECT_NE(m.body.find("hookyard_http_requests_total{route=\"other\",status=\"404\"} 1"), std::string::npos);
    EXPECT_NE(m.body.find("hookyard_webhook_deliveries_total{event=\"push\",outcome=\"duplicate\"} 1"),
              std::string::npos);
    EXPECT_NE(m.body.find("hookyard_http_request_duration_seconds_count 3"), std::string::npos);
}
