// The dashboard in headless Chromium against the real `hookyard serve` and real builds: live updates
// without reloads, retry, cancel, logout, CSRF and roles, escaping. Screenshots go to build/screenshots/.

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/integration/api/dashboard_fixture.hpp"
#include "tests/integration/api/webdriver.hpp"

using namespace hookyard::test;
using namespace std::chrono_literals;

namespace {

class DashboardBrowser : public DashboardServe {
protected:
    void SetUp() override {
        // Fails, never skips: a CI machine without the browser must not pass silently.
        ASSERT_EQ(Browser::missing_programs(), "");
        DashboardServe::SetUp();
        if (HasFatalFailure()) return;
        m_browser = std::make_unique<Browser>(m_dir.path());
        std::filesystem::create_directories(shots());
    }
    void TearDown() override {
        m_browser.reset();
        DashboardServe::TearDown();
    }

    static std::string shots() { return binary_dir() + "/screenshots"; }

    void log_in(const std::string& token) {
        m_browser->go(base() + "/login");
        m_browser->type("#token", token);
        m_browser->click("#login");
        ASSERT_TRUE(wait_until([&] { return m_browser->url() == base() + "/builds"; }, 10s)) << m_browser->url();
    }
    // Marks the current document: the mark survives live updates and disappears with a reload.
    void mark() { m_browser->run("window.__hy_mark = 1;"); }
    bool still_marked() { return m_browser->run("return window.__hy_mark === 1;").get<bool>(); }
    std::string row_state(long long id) {
        return m_browser->text("#rows tr[data-id='" + std::to_string(id) + "'] .state");
    }
    // Desktop and phone width screenshots of the current page.
    void shoot(const std::string& name) {
        m_browser->screenshot(shots() + "/" + name + "-desktop.png");
        m_browser->resize(390, 844);
        m_browser->screenshot(shots() + "/" + name + "-phone.png");
        m_browser->resize(1280, 900);
    }

    std::unique_ptr<Browser> m_browser;
};

}  // namespace

TEST_F(DashboardBrowser, OperatorWatchesBuildsLiveRetriesCancelsAndLogsOut) {
    log_in(k_operator);
    // A slow build holds the only build slot; its log ticks arrive on its page without a reload.
    m_browser->go(base() + "/repositories");
    shoot("repositories");
    m_browser->click("form[action='/repositories/acme/app/rules/1/build'] button");
    ASSERT_TRUE(wait_until([&] { return m_browser->url().find("/builds/") != std::string::npos; }, 10s));
    const long long slow = std::stoll(m_browser->url().substr(m_browser->url().rfind('/') + 1));
    mark();
    ASSERT_TRUE(wait_until([&] { return m_browser->text("#log").find("tick 2") != std::string::npos; }, 90s))
        << m_browser->text("#log");
    EXPECT_TRUE(still_marked());
    EXPECT_TRUE(m_browser->exists("#log .c32")) << "ANSI green is rendered as a colour";
    EXPECT_NE(m_browser->text("#log").find("tick 1 \xef\xbf\xbd"), std::string::npos)
        << "invalid UTF-8 shows as U+FFFD";
    EXPECT_NE(m_browser->text("#stages").find("build"), std::string::npos);
    shoot("build-running");

    // A push queues behind it: the builds page shows it queued, then (running and) succeeded, never reloading.
    m_browser->go(base() + "/builds");
    mark();
    const long long id = push_main("<script>window.__pwned = 1</script><img id=pwned src=x> fix");
    ASSERT_GT(id, 0);
    ASSERT_TRUE(wait_until([&] { return row_state(id) == "queued"; }, 15s)) << row_state(id);
    shoot("builds");
    api("POST", "/api/v1/builds/" + std::to_string(slow) + "/cancel");
    // A cached build can run and finish between two of the page's polls: "running" may never be shown.
    ASSERT_TRUE(wait_until(
        [&] {
            const auto state = row_state(id);
            return state == "running" || state == "succeeded";
        },
        60s))
        << row_state(id);
    ASSERT_TRUE(wait_until([&] { return row_state(id) == "succeeded"; }, 120s)) << row_state(id);
    EXPECT_TRUE(still_marked()) << "the page was reloaded";
    EXPECT_FALSE(m_browser->exists("#pwned"));
    EXPECT_NE(m_browser->text("#rows").find("<script>window.__pwned"), std::string::npos) << "shown as text";

    // The build page: stages, the log, the pushed digest; escaping held.
    m_browser->click("#rows tr[data-id='" + std::to_string(id) + "'] a");
    ASSERT_TRUE(wait_until([&] { return m_browser->exists("#stages"); }, 10s));
    EXPECT_NE(m_browser->text("#stages").find("push"), std::string::npos) << m_browser->text("#stages");
    EXPECT_NE(m_browser->text("#log").find("built"), std::string::npos);
    EXPECT_NE(m_browser->text("main").find("@sha256:"), std::string::npos);
    EXPECT_FALSE(m_browser->run("return window.__pwned === 1;").get<bool>());
    shoot("build");

    // Retry makes a new build and shows it.
    m_browser->click("button.retry");
    ASSERT_TRUE(wait_until([&] { return m_browser->url() != base() + "/builds/" + std::to_string(id); }, 10s));
    const std::string retried = m_browser->url().substr(m_browser->url().rfind('/') + 1);
    EXPECT_EQ(api("GET", "/api/v1/builds/" + retried).value("retry_of", 0LL), id) << m_browser->url();

    // Cancel on a long build: the page shows it canceled.
    m_browser->go(base() + "/repositories");
    m_browser->click("form[action='/repositories/acme/app/rules/1/build'] button");
    ASSERT_TRUE(wait_until([&] { return m_browser->exists("button.cancel"); }, 10s));
    m_browser->click("button.cancel");
    ASSERT_TRUE(wait_until([&] { return m_browser->text("#state") == "canceled"; }, 60s)) << m_browser->text("#state");
    m_browser->go(base() + "/queue");
    shoot("queue");

    // Logging out ends access.
    m_browser->click("header form[action='/logout'] button");
    ASSERT_TRUE(wait_until([&] { return m_browser->url().find("/login") != std::string::npos; }, 10s));
    m_browser->go(base() + "/builds");
    EXPECT_NE(m_browser->url().find("/login"), std::string::npos) << "refused after logout";
    shoot("login");
}

TEST_F(DashboardBrowser, ViewersCannotActAndPostsWithoutTheCsrfTokenAreRefused) {
    log_in(k_viewer);
    m_browser->go(base() + "/repositories");
    EXPECT_FALSE(m_browser->exists("button.build-now")) << "no Build now for a viewer";
    const auto status = [&](const std::string& body) {
        return m_browser
            ->run(
                "var x = new XMLHttpRequest(); x.open('POST', '/repositories/acme/app/rules/0/build', false);"
                "x.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded'); x.send(arguments[0]);"
                "return x.status;",
                {body})
            .get<int>();
    };
    EXPECT_EQ(status(""), 403) << "no CSRF token";
    const std::string csrf =
        m_browser->run("return document.querySelector('input[name=csrf]').value;").get<std::string>();
    EXPECT_EQ(status("csrf=" + csrf), 403) << "a viewer with a valid token still may not trigger";
    EXPECT_TRUE(api("GET", "/api/v1/builds")["builds"].empty()) << "nothing was queued";
}
