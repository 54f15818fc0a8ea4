// GET /healthz: 200 while the pipeline can take work, 503 with the reason when not.

#include "tests/unit/api/status_routes_fixture.hpp"

using HealthApiTest = hookyard::test::StatusRoutesTest;

TEST_F(HealthApiTest, HealthzIsOkWhileThePipelineIsAnd503WhenNot) {
    auto ok = call("GET", "/healthz");
    EXPECT_EQ(ok.status, 200u);
    EXPECT_EQ(ok.body, "{\"status\":\"ok\"}\n");
    m_status.healthy = false;
    auto down = call("GET", "/healthz");
    EXPECT_EQ(down.status, 503u);
    EXPECT_EQ(down.body, "{\"error\":\"storage unreachable: disk on fire\"}\n");
    EXPECT_EQ(call("POST", "/healthz").status, 405u);
}

TEST_F(HealthApiTest, HealthzIsDegradedWith200AndTheReasonsWhileBuildsAreHeld) {
    m_status.reasons = {"data dir /d: 1.0 GiB free, below builder.min_free_space (5.0 GiB)"};
    auto r = call("GET", "/healthz");
    EXPECT_EQ(r.status, 200u) << "degraded keeps the instance in its load balancer";
    EXPECT_EQ(r.body,
              "{\"reasons\":[\"data dir /d: 1.0 GiB free, below builder.min_free_space (5.0 GiB)\"],"
              "\"status\":\"degraded\"}\n");
}
