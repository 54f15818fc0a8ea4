// Badges and the dashboard's access rules through the real `hookyard serve` binary with a real build.

#include <gtest/gtest.h>

#include "tests/integration/api/dashboard_fixture.hpp"

using namespace hookyard::test;
using namespace std::chrono_literals;

namespace {

std::string badge_message(int port, const std::string& path) {
    const auto r = http_request(port, "GET", path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return nlohmann::json::parse(r.body, nullptr, false).value("message", "");
}

}  // namespace

TEST_F(DashboardServe, BadgeFollowsARealBuildWithoutALogin) {
    EXPECT_EQ(badge_message(m_port, "/badge/acme/app.json"), "unknown");
    const long long id = push_main("a change");
    ASSERT_GT(id, 0);
    ASSERT_TRUE(wait_until([&] { return state_of(id) == "running"; }, 60s)) << state_of(id);
    EXPECT_EQ(badge_message(m_port, "/badge/acme/app.json"), "building");
    ASSERT_TRUE(wait_until([&] { return state_of(id) == "succeeded"; }, 120s)) << state_of(id);
    EXPECT_EQ(badge_message(m_port, "/badge/acme/app.json"), "passing");
    EXPECT_EQ(badge_message(m_port, "/badge/acme/app/latest.json"), "passing");
    EXPECT_EQ(badge_message(m_port, "/badge/acme/app/slow.json"), "unknown");
    auto svg = http_request(m_port, "GET", "/badge/acme/app.svg");
    EXPECT_EQ(svg.headers["content-type"], "image/svg+xml; charset=utf-8");
    EXPECT_EQ(svg.headers["cache-control"], "public, max-age=30");
    EXPECT_NE(svg.body.find(">passing</text>"), std::string::npos);
}

TEST_F(DashboardServe, PagesNeedALoginAndTheApiIgnoresTheCookie) {
    EXPECT_EQ(http_request(m_port, "GET", "/builds").headers["location"], "/login?next=/builds");
    const auto form = http_request(m_port, "GET", "/login");
    const auto at = form.body.find("name=\"csrf\" value=\"") + 19;
    const std::string csrf = form.body.substr(at, form.body.find('"', at) - at);
    auto in = http_request(m_port, "POST", "/login", {{"Content-Type", "application/x-www-form-urlencoded"}},
                           std::string("token=") + k_operator + "&csrf=" + csrf);
    ASSERT_EQ(in.status, 303) << in.body;
    const std::string set = in.headers["set-cookie"];
    const std::string cookie = set.substr(0, set.find(';'));
    EXPECT_EQ(http_request(m_port, "GET", "/builds", {{"Cookie", cookie}}).status, 200);
    EXPECT_EQ(http_request(m_port, "GET", "/api/v1/builds", {{"Cookie", cookie}}).status, 401)
        << "/api/v1 stays bearer-only";
}
