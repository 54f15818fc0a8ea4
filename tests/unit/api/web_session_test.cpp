// Stateless dashboard sessions: signed, expiring cookies any instance with the same secret accepts, and
// CSRF tokens derived from them.

#include "api/web_session.hpp"

#include <gtest/gtest.h>

#include "tests/unit/api/web_fixture.hpp"

using namespace hookyard;
using namespace std::chrono_literals;

TEST(WebSession, UsersAndTheApiTokenLogInWithTheirRoles) {
    const auto config = test::web_test_config();
    api::WebAuth auth(config);
    const auto viewer = auth.login(test::k_web_viewer_token);
    ASSERT_TRUE(viewer);
    EXPECT_EQ(viewer->name, "vera");
    EXPECT_FALSE(viewer->operator_role);
    EXPECT_TRUE(auth.login(test::k_web_operator_token)->operator_role);
    EXPECT_TRUE(auth.login("api-token-for-tests-0123")->operator_role);
    EXPECT_FALSE(auth.login("wrong"));
    EXPECT_FALSE(auth.login(""));
}

TEST(WebSession, AnotherInstanceWithTheSameConfigAcceptsTheCookie) {
    const auto config = test::web_test_config();
    const auto config_copy = test::web_test_config();
    const auto s = api::WebAuth(config).login(test::k_web_operator_token);
    const auto other = api::WebAuth(config_copy).session("a=b; hy_session=" + s->cookie_value + "; c=d");
    ASSERT_TRUE(other);
    EXPECT_EQ(other->name, "otto");
    EXPECT_TRUE(other->operator_role);
    const auto elsewhere = test::web_test_config("  session_secret: another-secret-entirely\n");
    EXPECT_FALSE(api::WebAuth(elsewhere).session("hy_session=" + s->cookie_value));
}

TEST(WebSession, TamperedAndExpiredCookiesAreRefused) {
    const auto config = test::web_test_config();
    api::WebAuth auth(config);
    const auto t0 = api::WebAuth::Clock::now();
    const auto s = auth.login(test::k_web_viewer_token, t0);
    std::string promoted = s->cookie_value;
    promoted.replace(promoted.find(".v."), 3, ".o.");
    EXPECT_FALSE(auth.session("hy_session=" + promoted, t0)) << "a viewer cannot make itself an operator";
    EXPECT_TRUE(auth.session("hy_session=" + s->cookie_value, t0 + 11h));
    EXPECT_FALSE(auth.session("hy_session=" + s->cookie_value, t0 + 13h)) << "session_ttl defaults to 12h";
    EXPECT_FALSE(auth.session("hy_session=garbage"));
    EXPECT_FALSE(auth.session(""));
}

TEST(WebSession, CookieFlagsFollowThePublicUrl) {
    auto config = test::web_test_config();
    api::WebAuth auth(config);
    const auto cookie = auth.set_cookie(*auth.login(test::k_web_viewer_token));
    for (const char* flag : {"HttpOnly", "SameSite=Strict", "Secure", "Path=/"}) {
        EXPECT_NE(cookie.find(flag), std::string::npos) << flag << " in " << cookie;
    }
    EXPECT_EQ(cookie.find(test::k_web_viewer_token), std::string::npos) << "the token never leaves in a cookie";
    config.server.public_url = "http://ci.internal";
    EXPECT_EQ(api::WebAuth(config).set_cookie(*auth.login(test::k_web_viewer_token)).find("Secure"), std::string::npos);
}

TEST(WebSession, CsrfTokensBelongToOneSessionAndLoginTokensExpire) {
    const auto config = test::web_test_config();
    api::WebAuth auth(config);
    const auto a = auth.login(test::k_web_viewer_token);
    const auto b = auth.login(test::k_web_operator_token);
    EXPECT_TRUE(auth.check_csrf(*a, auth.csrf_token(*a)));
    EXPECT_FALSE(auth.check_csrf(*a, auth.csrf_token(*b)));
    EXPECT_FALSE(auth.check_csrf(*a, ""));
    const auto t0 = api::WebAuth::Clock::now();
    const auto form = auth.login_csrf(t0);
    EXPECT_TRUE(auth.check_login_csrf(form, t0 + 30min));
    EXPECT_FALSE(auth.check_login_csrf(form, t0 + 2h));
    EXPECT_FALSE(auth.check_login_csrf("1.2", t0));
}

TEST(WebSession, FormValuesAreDecoded) {
    EXPECT_EQ(api::form_value("a=1&token=x%2By+z&csrf=", "token"), "x+y z");
    EXPECT_EQ(api::form_value("a=1", "token"), "");
}

TEST(UiConfig, RolesTokensAndMistakesAreDiagnosed) {
    const auto config = test::web_test_config("  public: true\n  session_ttl: 2h\n");
    EXPECT_TRUE(config.ui.public_read);
    EXPECT_EQ(config.ui.session_ttl, 2h);
    ASSERT_EQ(config.ui.users.size(), 2u);
    EXPECT_EQ(config.ui.users[1].role, config::UiRole::operator_role);
    const auto bad =
        config::load_config_text("ui: { users: [{name: a, token: short, role: admin}], colour: red }\n", "bad.yaml");
    ASSERT_FALSE(bad.config);
    std::string all;
    for (const auto& d : bad.diagnostics) all += d.str() + "\n";
    EXPECT_NE(all.find("at least 16 characters"), std::string::npos) << all;
    EXPECT_NE(all.find("role must be viewer or operator"), std::string::npos) << all;
    EXPECT_NE(all.find("colour"), std::string::npos) << all;
}
