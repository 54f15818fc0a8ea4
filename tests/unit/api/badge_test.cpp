// Status badges over the in-memory store: the verdict of the latest finished build, "building" while a
// newer one runs, per tag, in SVG and shields.io's endpoint JSON, cacheable for a short while.

#include "api/badge.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/unit/api/web_fixture.hpp"

using namespace hookyard;
using storage::BuildState;

namespace {

class BadgeTest : public test::WebRoutesTest {
protected:
    std::string message(const std::string& path) {
        const auto r = call("GET", path + ".json");
        EXPECT_EQ(r.status, 200u) << r.body;
        return nlohmann::json::parse(r.body).value("message", "");
    }
};

}  // namespace

TEST_F(BadgeTest, UnknownBeforeAnyBuildThenTheLatestFinishedVerdict) {
    EXPECT_EQ(message("/badge/acme/web"), "unknown");
    finish(queue("refs/heads/main"), BuildState::succeeded);
    EXPECT_EQ(message("/badge/acme/web"), "passing");
    finish(queue("refs/heads/main"), BuildState::failed);
    EXPECT_EQ(message("/badge/acme/web"), "failing");
    // A canceled build is no verdict: the failure before it still counts.
    const auto canceled = queue("refs/heads/main");
    ASSERT_TRUE(m_store->cancel_build(canceled));
    EXPECT_EQ(message("/badge/acme/web"), "failing");
}

TEST_F(BadgeTest, BuildingWhileANewerBuildRuns) {
    finish(queue("refs/heads/main"), BuildState::succeeded);
    const auto next = queue("refs/heads/main");
    EXPECT_EQ(message("/badge/acme/web"), "passing") << "a queued build is not building yet";
    ASSERT_TRUE(m_store->claim(next));
    EXPECT_EQ(message("/badge/acme/web"), "building");
}

TEST_F(BadgeTest, TheVerdictStandsBehindAThousandQueuedAndCanceledBuilds) {
    finish(queue("refs/heads/main"), BuildState::failed);
    for (int i = 0; i < 1000; ++i) {
        const auto id = queue("refs/heads/b" + std::to_string(i));
        if (i % 2 == 0) {
            ASSERT_TRUE(m_store->cancel_build(id));
        }
    }
    EXPECT_EQ(message("/badge/acme/web"), "failing");
    EXPECT_EQ(message("/badge/acme/web/latest"), "failing");
}

TEST_F(BadgeTest, ATagBadgeOnlyCountsTheBuildsPushingThatTag) {
    finish(queue("refs/tags/v1", "release", {"v1"}), BuildState::failed);
    finish(queue("refs/heads/main"), BuildState::succeeded);
    EXPECT_EQ(message("/badge/acme/web/v1"), "failing");
    EXPECT_EQ(message("/badge/acme/web/latest"), "passing");
    EXPECT_EQ(message("/badge/acme/web/v2"), "unknown");
}

TEST_F(BadgeTest, SvgWithColourAndShortCacheAndShieldsJson) {
    finish(queue("refs/heads/main"), BuildState::succeeded);
    const auto svg = call("GET", "/badge/acme/web.svg");
    EXPECT_EQ(svg.status, 200u);
    EXPECT_EQ(svg.content_type, "image/svg+xml; charset=utf-8");
    EXPECT_NE(svg.body.find(">passing</text>"), std::string::npos) << svg.body;
    EXPECT_NE(svg.body.find("#4c1"), std::string::npos) << "passing is bright green";
    EXPECT_EQ(header(svg, "Cache-Control"), "public, max-age=30");
    const auto json = nlohmann::json::parse(call("GET", "/badge/acme/web.json").body);
    EXPECT_EQ(json, (nlohmann::json{
                        {"schemaVersion", 1}, {"label", "build"}, {"message", "passing"}, {"color", "brightgreen"}}));
}

TEST_F(BadgeTest, RepositoryNamesAreCaseInsensitiveAndUnconfiguredOnesAre404) {
    finish(queue("refs/heads/main"), BuildState::failed);
    EXPECT_EQ(message("/badge/ACME/Web"), "failing");
    const auto r = call("GET", "/badge/acme/nothing.svg");
    EXPECT_EQ(r.status, 404u);
    EXPECT_NE(r.body.find("not found"), std::string::npos);
    EXPECT_EQ(call("GET", "/badge/acme/web.png").status, 404u);
}

TEST_F(BadgeTest, FoldLooksPastOlderPagesOfOtherTags) {
    finish(queue("refs/tags/v1", "release", {"v1"}), BuildState::succeeded);
    for (int i = 0; i < 120; ++i) queue("refs/heads/main");
    EXPECT_EQ(message("/badge/acme/web/v1"), "passing") << "the verdict is several store pages back";
}

TEST(BadgeSvg, TextIsEscaped) {
    const auto svg = api::badge_svg("a<b", "x&y", "red");
    EXPECT_NE(svg.find("a&lt;b"), std::string::npos);
    EXPECT_NE(svg.find("x&amp;y"), std::string::npos);
    EXPECT_EQ(svg.find("a<b"), std::string::npos);
}

TEST(BadgeRateLimit, APublicClientOverTheRateGets429) {
    const auto config = test::web_test_config();
    auto store = test::make_fake_store();
    api::BadgeRoutes badges(config, *store);
    http::RateLimiter limiter(1);
    http::RouteTable table;
    badges.add_routes(table, &limiter);
    std::vector<unsigned> statuses;
    for (int i = 0; i < 2; ++i) {
        table.handle(http::ServerRequest{"GET", "/badge/acme/web.svg", {}, "", "192.0.2.7"},
                     [&](http::ServerResponse r) { statuses.push_back(r.status); });
    }
    EXPECT_EQ(statuses, (std::vector<unsigned>{200u, 429u}));
}
