// The route assembly of `hookyard serve` over a real socket: intake and API routes side by side in one
// table, one metrics registry observing all of them, 404/405 for what no route serves.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/intake/http_client.hpp"
#include "tests/integration/intake/intake_harness.hpp"

using namespace hookyard;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(ServeRoutes, AnAcceptedPushIsVisibleThroughTheApiAndTheMetrics) {
    test::IntakeServer intake;
    auto accepted = test::post_github(intake.port(), test::k_secret, "push", "r-1", test::k_sample_push);
    ASSERT_EQ(accepted.status, 202) << accepted.body;
    const auto id = nlohmann::json::parse(accepted.body)["builds"][0].get<std::int64_t>();

    auto build = test::http_request(intake.port(), "GET", "/api/v1/builds/" + std::to_string(id),
                                    {{"Authorization", std::string("Bearer ") + test::k_api_token}});
    ASSERT_EQ(build.status, 200) << build.body;
    EXPECT_EQ(nlohmann::json::parse(build.body)["state"], "queued");

    auto m = test::http_request(intake.port(), "GET", "/metrics");
    ASSERT_EQ(m.status, 200);
    EXPECT_TRUE(contains(m.body, "hookyard_http_requests_total{route=\"github\",status=\"202\"} 1")) << m.body;
    EXPECT_TRUE(contains(m.body, "hookyard_http_requests_total{route=\"api\",status=\"200\"} 1"));
    EXPECT_TRUE(contains(m.body, "hookyard_webhook_deliveries_total{event=\"push\",outcome=\"accepted\"} 1"));
    EXPECT_TRUE(contains(m.body, "hookyard_queue_depth 1"));
    EXPECT_EQ(test::http_request(intake.port(), "GET", "/healthz").body, "{\"status\":\"ok\"}\n");
}

TEST(ServeRoutes, UnknownPathsAre404AndWrongMethods405WithAllow) {
    test::IntakeServer intake;
    auto nowhere = test::http_request(intake.port(), "GET", "/nowhere");
    EXPECT_EQ(nowhere.status, 404);
    EXPECT_EQ(nlohmann::json::parse(nowhere.body)["error"], "no such endpoint: /nowhere");
    auto get_hook = test::http_request(intake.port(), "GET", "/hooks/github");
    EXPECT_EQ(get_hook.status, 405);
    EXPECT_EQ(get_hook.headers["allow"], "POST");
    EXPECT_EQ(test::http_request(intake.port(), "GET", "/api/v1/trigger/x").headers["allow"], "POST");
    EXPECT_EQ(test::http_request(intake.port(), "POST", "/healthz").headers["allow"], "GET");
}
