// The dashboard's pages and actions through the route table: who may read and act, CSRF on every POST,
// escaping of everything a push controls, logs with ANSI colours and invalid UTF-8.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/web_html.hpp"
#include "tests/unit/api/web_fixture.hpp"

using namespace hookyard;
using storage::BuildState;

namespace {

using WebPagesTest = test::WebRoutesTest;

class PublicWebPagesTest : public test::WebRoutesTest {
protected:
    PublicWebPagesTest() : WebRoutesTest("  public: true\n") {}
};

}  // namespace

TEST_F(WebPagesTest, PagesNeedALoginAndTheRootGoesToBuilds) {
    EXPECT_EQ(header(call("GET", "/"), "Location"), "/builds");
    for (const char* path : {"/builds", "/builds/1", "/repositories", "/queue", "/builds/1/live"}) {
        const auto r = call("GET", path);
        EXPECT_EQ(r.status, 303u) << path;
        EXPECT_EQ(header(r, "Location").rfind("/login?next=", 0), 0u) << path;
    }
    const auto cookie = login_cookie(test::k_web_viewer_token);
    for (const char* path : {"/builds", "/repositories", "/queue"}) {
        const auto r = call("GET", path, cookie);
        EXPECT_EQ(r.status, 200u) << path;
        EXPECT_NE(r.body.find("vera (viewer)"), std::string::npos) << path;
    }
}

TEST_F(PublicWebPagesTest, PublicDashboardsAreReadableButNotActionable) {
    const auto id = queue("refs/heads/main");
    EXPECT_EQ(call("GET", "/builds").status, 200u);
    EXPECT_EQ(call("GET", "/builds/" + std::to_string(id)).status, 200u);
    EXPECT_EQ(call("POST", "/builds/" + std::to_string(id) + "/cancel", "", "csrf=x").status, 403u);
    EXPECT_EQ(m_store->get_build(id)->state, BuildState::queued);
}

TEST_F(WebPagesTest, LoginSetsTheCookieAndLogoutClearsIt) {
    const auto form = call("GET", "/login");
    const auto at = form.body.find("name=\"csrf\" value=\"") + 19;
    const std::string csrf = form.body.substr(at, form.body.find('"', at) - at);
    const auto wrong = call("POST", "/login", "", "token=nope&csrf=" + csrf);
    EXPECT_EQ(wrong.status, 401u);
    EXPECT_EQ(call("POST", "/login", "", std::string("token=") + test::k_web_viewer_token).status, 403u)
        << "the login form needs its CSRF token too";
    const auto ok = call("POST", "/login", "",
                         std::string("token=") + test::k_web_viewer_token + "&csrf=" + csrf + "&next=%2Fqueue");
    EXPECT_EQ(ok.status, 303u);
    EXPECT_EQ(header(ok, "Location"), "/queue");
    EXPECT_NE(header(ok, "Set-Cookie").find("hy_session="), std::string::npos);
    const auto away =
        call("POST", "/login", "",
             std::string("token=") + test::k_web_viewer_token + "&csrf=" + csrf + "&next=%2F%2Fevil.example");
    EXPECT_EQ(header(away, "Location"), "/builds") << "no open redirect";
    const auto cookie = login_cookie(test::k_web_viewer_token);
    const auto out = call("POST", "/logout", cookie, "csrf=" + csrf_of(cookie));
    EXPECT_EQ(header(out, "Location"), "/login");
    EXPECT_NE(header(out, "Set-Cookie").find("Max-Age=0"), std::string::npos);
}

TEST_F(WebPagesTest, EveryPostNeedsTheCsrfTokenAndOperatorsAct) {
    const auto id = queue("refs/heads/main");
    const std::string cancel = "/builds/" + std::to_string(id) + "/cancel";
    const auto op = login_cookie(test::k_web_operator_token);
    EXPECT_EQ(call("POST", cancel, op, "").status, 403u);
    EXPECT_EQ(call("POST", cancel, op, "csrf=" + csrf_of(login_cookie(test::k_web_viewer_token))).status, 403u);
    EXPECT_EQ(m_store->get_build(id)->state, BuildState::queued);
    const auto viewer = login_cookie(test::k_web_viewer_token);
    const auto refused = call("POST", cancel, viewer, "csrf=" + csrf_of(viewer));
    EXPECT_EQ(refused.status, 403u);
    EXPECT_NE(refused.body.find("Only operators"), std::string::npos);
    EXPECT_EQ(call("POST", "/repositories/acme/web/rules/0/build", viewer, "csrf=" + csrf_of(viewer)).status, 403u);
    EXPECT_EQ(m_build_now_rule, -1) << "a viewer cannot trigger";
    EXPECT_EQ(call("POST", cancel, op, "csrf=" + csrf_of(op)).status, 303u);
    EXPECT_EQ(m_store->get_build(id)->state, BuildState::canceled);
}

TEST_F(WebPagesTest, RetryQueuesANewBuildAndBuildNowRunsTheRule) {
    const auto id = queue("refs/heads/main");
    finish(id, BuildState::failed);
    const auto op = login_cookie(test::k_web_operator_token);
    const auto r = call("POST", "/builds/" + std::to_string(id) + "/retry", op, "csrf=" + csrf_of(op));
    ASSERT_EQ(r.status, 303u) << r.body;
    EXPECT_EQ(header(r, "Location"), "/builds/" + std::to_string(id + 1));
    EXPECT_EQ(m_store->get_build(id + 1)->retry_of, id);
    EXPECT_EQ(m_queued, 1);
    const auto now = call("POST", "/repositories/acme/web/rules/0/build", op, "csrf=" + csrf_of(op));
    EXPECT_EQ(now.status, 303u);
    EXPECT_EQ(m_build_now_rule, 0);
    EXPECT_EQ(call("POST", "/repositories/acme/web/rules/9/build", op, "csrf=" + csrf_of(op)).status, 404u);
}

TEST_F(WebPagesTest, WhatAPushControlsIsShownAsText) {
    const auto id = queue("refs/heads/<script>alert(1)</script>", "<img src=x onerror=alert(2)> & more");
    const auto cookie = login_cookie(test::k_web_viewer_token);
    for (const std::string& path : {std::string("/builds"), "/builds/" + std::to_string(id), std::string("/queue")}) {
        const auto r = call("GET", path, cookie);
        EXPECT_EQ(r.body.find("<script>alert"), std::string::npos) << path;
        EXPECT_EQ(r.body.find("<img src=x"), std::string::npos) << path;
        EXPECT_NE(r.body.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos) << path;
        EXPECT_NE(header(r, "Content-Security-Policy").find("script-src 'self'"), std::string::npos);
    }
}

TEST_F(WebPagesTest, LogsRenderWithColoursLineAnchorsAndInvalidUtf8) {
    const auto id = queue("refs/heads/main");
    ASSERT_TRUE(m_store->claim(id));
    ASSERT_TRUE(m_store->append_log(id, "plain\n\x1b[1;31mred bold\x1b[0m back\nbad \xff\xfe bytes <b>\npartial"));
    const auto cookie = login_cookie(test::k_web_viewer_token);
    const auto r = call("GET", "/builds/" + std::to_string(id), cookie);
    EXPECT_NE(r.body.find("<span class=\"b c31\">red bold</span> back"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("id=\"L3\"><a href=\"#L3\">3</a>bad \xef\xbf\xbd\xef\xbf\xbd bytes &lt;b&gt;"),
              std::string::npos);
    EXPECT_EQ(r.body.find("partial"), std::string::npos) << "an unfinished line waits for its end";
    const auto live = call("GET", "/builds/" + std::to_string(id) + "/live?offset=0&line=1", cookie);
    const auto j = nlohmann::json::parse(live.body);
    EXPECT_EQ(j["state"], "running");
    EXPECT_FALSE(j["complete"].get<bool>());
    ASSERT_TRUE(m_store->append_log(id, " line\n"));
    ASSERT_TRUE(m_store->finish_build(id, BuildState::succeeded, "", ""));
    const auto rest = nlohmann::json::parse(call("GET",
                                                 "/builds/" + std::to_string(id) + "/live?offset=" +
                                                     std::to_string(j["offset"].get<std::int64_t>()) + "&line=4",
                                                 cookie)
                                                .body);
    EXPECT_NE(rest["log_html"].get<std::string>().find("id=\"L4\""), std::string::npos);
    EXPECT_NE(rest["log_html"].get<std::string>().find("partial line"), std::string::npos);
    EXPECT_TRUE(rest["complete"].get<bool>());
    EXPECT_NE(rest["head_html"].get<std::string>().find("s-succeeded"), std::string::npos);
}

TEST_F(WebPagesTest, BuildsFilterAndPageWithBefore) {
    for (int i = 0; i < 55; ++i) queue(i % 2 ? "refs/heads/main" : "refs/heads/dev");
    const auto cookie = login_cookie(test::k_web_viewer_token);
    const auto first = call("GET", "/builds", cookie);
    EXPECT_NE(first.body.find("href=\"/builds/55\""), std::string::npos);
    EXPECT_EQ(first.body.find("href=\"/builds/5\""), std::string::npos);
    EXPECT_NE(first.body.find("before=6"), std::string::npos) << "the next page starts below the last row";
    const auto dev = call("GET", "/builds?ref=dev&fragment=rows", cookie);
    EXPECT_EQ(dev.body.find(">main<"), std::string::npos);
    EXPECT_NE(dev.body.find(">dev<"), std::string::npos);
    EXPECT_EQ(dev.body.find("<html"), std::string::npos) << "a fragment is the rows only";
    EXPECT_EQ(call("GET", "/builds?state=failed&fragment=rows", cookie).body, "");
}

// The ref filter finds a ref's builds however many others came after them (it once scanned 1,000 builds).
TEST_F(WebPagesTest, BuildsRefFilterFindsOldBuildsByShortOrFullRef) {
    const auto tagged = queue("refs/tags/v1");
    for (int i = 0; i < 1100; ++i) queue("refs/heads/main");
    const auto cookie = login_cookie(test::k_web_viewer_token);
    const std::string link = "href=\"/builds/" + std::to_string(tagged) + "\"";
    for (const char* ref : {"v1", "refs/tags/v1"}) {
        const auto r = call("GET", std::string("/builds?ref=") + ref + "&fragment=rows", cookie);
        EXPECT_NE(r.body.find(link), std::string::npos) << ref;
        EXPECT_EQ(r.body.find(">main<"), std::string::npos) << ref;
    }
    const auto main = call("GET", "/builds?ref=main", cookie);
    EXPECT_NE(main.body.find("Older builds"), std::string::npos);
    EXPECT_EQ(main.body.find(link), std::string::npos);
}

TEST_F(WebPagesTest, RepositoriesShowRulesWebhookUrlAndNoSecrets) {
    finish(queue("refs/heads/main"), BuildState::succeeded);
    const auto op = login_cookie(test::k_web_operator_token);
    const auto r = call("GET", "/repositories", op);
    EXPECT_NE(r.body.find("https://ci.example.com/hooks/github"), std::string::npos);
    EXPECT_NE(r.body.find("<code>/^v.*$/</code>"), std::string::npos);
    EXPECT_NE(r.body.find("s-succeeded"), std::string::npos) << "the last build of rule 0";
    EXPECT_NE(r.body.find("/repositories/acme/web/rules/0/build"), std::string::npos);
    EXPECT_EQ(r.body.find("/repositories/acme/web/rules/1/build"), std::string::npos) << "no Build now for a regex";
    for (const char* secret : {"a-webhook-secret-for-tests", "api-token-for-tests-0123", test::k_web_viewer_token}) {
        EXPECT_EQ(r.body.find(secret), std::string::npos) << secret;
    }
}

// Each rule's newest build, however many builds of other rules came after it (the page once looked only
// 200 builds back).
TEST_F(WebPagesTest, RepositoriesFindARulesLastBuildBehindManyOthers) {
    storage::NewBuild tag_build;
    tag_build.repository = "acme/web";
    tag_build.ref = "refs/tags/v1";
    tag_build.rule = 1;
    const auto old = m_store->insert_builds({tag_build});
    ASSERT_TRUE(old.ok());
    finish(old->at(0).id, BuildState::failed);
    storage::BuildId newest = 0;
    for (int i = 0; i < 250; ++i) newest = queue("refs/heads/main");
    const auto r = call("GET", "/repositories", login_cookie(test::k_web_viewer_token));
    EXPECT_NE(r.body.find("href=\"/builds/" + std::to_string(old->at(0).id) + "\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("s-failed"), std::string::npos);
    EXPECT_NE(r.body.find("href=\"/builds/" + std::to_string(newest) + "\""), std::string::npos);
}

TEST_F(WebPagesTest, QueueShowsRunningQueuedAndConcurrency) {
    const auto running = queue("refs/heads/main");
    ASSERT_TRUE(m_store->claim(running));
    queue("refs/heads/dev");
    m_status.reasons = {"low disk space on /var/lib/hookyard"};
    const auto r = call("GET", "/queue", login_cookie(test::k_web_viewer_token));
    EXPECT_NE(r.body.find("Concurrency in use: 1 of 2"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("queued (1)"), std::string::npos);
    EXPECT_NE(r.body.find("low disk space"), std::string::npos);
}

TEST(WebHtml, EscapesAndFormats) {
    EXPECT_EQ(api::html_escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
    EXPECT_EQ(api::html_escape("caf\xc3\xa9 \xed\xa0\x80"), "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    EXPECT_EQ(api::format_duration(65000), "1m 05s");
    EXPECT_EQ(api::format_duration(850), "850 ms");
    EXPECT_EQ(api::format_time(0), "–");
}
