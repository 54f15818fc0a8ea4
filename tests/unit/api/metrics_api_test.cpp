// GET /metrics: request and delivery counters, and builds by state from the pipeline status.

#include "tests/unit/api/status_routes_fixture.hpp"

using namespace hookyard;
using MetricsApiTest = test::StatusRoutesTest;

TEST_F(MetricsApiTest, MetricsShowQueueDepthAndBuildsByStateFromTheStatus) {
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

TEST_F(MetricsApiTest, MetricsCountRequestsByRouteLabelAndStatus) {
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

TEST_F(MetricsApiTest, MetricsShowTheLayerCacheSizeLastMeasured) {
    m_metrics.set_cache_bytes(123456789);
    EXPECT_NE(call("GET", "/metrics").body.find("\nhookyard_cache_bytes 123456789\n"), std::string::npos);
}
