// Private repositories over smart HTTP (git http-backend behind basic auth), and network faults.

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "pipeline/checkout/checkout.hpp"
#include "pipeline/checkout/mirror_cache.hpp"
#include "tests/support/git_server.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

constexpr const char* k_token = "ghp-test-token-5f3a9c";  // what the server accepts as the password

class PrivateHttpFixture : public ::testing::Test {
protected:
    PrivateHttpFixture()
        : m_source(m_tmp / "srv", "private"),
          m_server(m_tmp / "srv", m_tmp.path(), "x-access-token", k_token),
          m_cache(m_tmp / "data/mirrors", RetryPolicy{2, std::chrono::milliseconds(10)}) {
        m_sha = m_source.commit({{"Dockerfile", "FROM scratch\n"}}, "one");
        m_source.push();
    }

    GitAuth token_auth(const std::string& token) {
        GitAuth auth;
        auth.token = token;
        auth.credential_name = "git.token of acme/private";
        return auth;
    }

    test::TempDir m_tmp;
    test::SourceRepo m_source;
    test::GitHttpServer m_server;
    MirrorCache m_cache;
    std::string m_sha;
};

TEST_F(PrivateHttpFixture, TokenIsSentAsBasicAuthTheWayGithubExpects) {
    auto mirror = m_cache.update("acme/private", m_server.url("private.git"), "main", m_sha, token_auth(k_token));
    ASSERT_TRUE(mirror.ok()) << mirror.error().message;
    EXPECT_EQ(mirror->commit, m_sha);
    EXPECT_GT(mirror->stats.received_objects, 0u);
}

TEST_F(PrivateHttpFixture, UsernameAndPasswordWorkToo) {
    GitAuth auth;
    auth.username = "x-access-token";
    auth.password = k_token;
    auth.credential_name = "git.username/password of acme/private";
    auto mirror = m_cache.update("acme/private", m_server.url("private.git"), "main", m_sha, auth);
    ASSERT_TRUE(mirror.ok()) << mirror.error().message;
}

TEST_F(PrivateHttpFixture, WrongTokenIsAnAuthErrorNamingTheCredentialButNotItsValue) {
    const std::string wrong = "ghp-wrong-token-77e1d0";
    auto mirror = m_cache.update("acme/private", m_server.url("private.git"), "main", m_sha, token_auth(wrong));
    ASSERT_FALSE(mirror.ok());
    EXPECT_EQ(mirror.error().kind, util::ErrorKind::auth);
    EXPECT_NE(mirror.error().message.find("git.token of acme/private"), std::string::npos) << mirror.error().message;
    EXPECT_NE(mirror.error().message.find("refused by 127.0.0.1"), std::string::npos) << mirror.error().message;
    EXPECT_EQ(mirror.error().message.find(wrong), std::string::npos) << mirror.error().message;
}

TEST_F(PrivateHttpFixture, AuthFailureIsNotRetried) {
    auto mirror = m_cache.update("acme/private", m_server.url("private.git"), "main", m_sha, token_auth("nope-nope"));
    ASSERT_FALSE(mirror.ok());
    // Without credentials libgit2 asks once (401), we answer once, the server refuses once more: 2 × 401.
    EXPECT_EQ(m_server.unauthorized_count(), 2);
}

TEST_F(PrivateHttpFixture, NoCredentialsForAPrivateRepositorySaysWhatToSet) {
    GitAuth none;
    none.credential_name = "git (none) (global)";
    auto mirror = m_cache.update("acme/private", m_server.url("private.git"), "main", m_sha, none);
    ASSERT_FALSE(mirror.ok());
    EXPECT_EQ(mirror.error().kind, util::ErrorKind::auth);
    EXPECT_NE(mirror.error().message.find("set git.token"), std::string::npos) << mirror.error().message;
}

TEST_F(PrivateHttpFixture, CredentialsInTheCloneUrlNeverAppearInErrors) {
    const std::string url =
        "http://someone:url-secret-9931@127.0.0.1:" + std::to_string(m_server.port()) + "/missing.git";
    auto mirror = m_cache.update("acme/missing", url, "main", "", token_auth(k_token));
    ASSERT_FALSE(mirror.ok());
    EXPECT_EQ(mirror.error().message.find("url-secret-9931"), std::string::npos) << mirror.error().message;
    EXPECT_EQ(mirror.error().message.find(k_token), std::string::npos) << mirror.error().message;
}

TEST_F(PrivateHttpFixture, ServerErrorsAreRetriedWithBackoffUntilTheFetchSucceeds) {
    m_server.fail_next(2);
    MirrorCache cache(m_tmp / "retry-mirrors", RetryPolicy{3, std::chrono::milliseconds(5)});
    auto mirror = cache.update("acme/private", m_server.url("private.git"), "main", m_sha, token_auth(k_token));
    ASSERT_TRUE(mirror.ok()) << mirror.error().message;
    EXPECT_EQ(mirror->stats.attempts, 3);
}

TEST_F(PrivateHttpFixture, PersistentServerErrorsAreTransientAfterTheLastAttempt) {
    m_server.fail_next(100);
    MirrorCache cache(m_tmp / "retry-mirrors", RetryPolicy{2, std::chrono::milliseconds(5)});
    auto mirror = cache.update("acme/private", m_server.url("private.git"), "main", m_sha, token_auth(k_token));
    ASSERT_FALSE(mirror.ok());
    EXPECT_EQ(mirror.error().kind, util::ErrorKind::transient) << mirror.error().message;
    EXPECT_NE(mirror.error().message.find("503"), std::string::npos) << mirror.error().message;
}

TEST(GitNetworkFaults, UntrustedTlsCertificateIsRefusedWithAClearReason) {
    test::TempDir tmp;
    test::SourceRepo source(tmp / "srv", "app");
    source.commit({{"a", "1\n"}}, "one");
    source.push();
    test::GitHttpServer server(tmp / "srv", tmp.path(), "x-access-token", k_token, true);
    MirrorCache cache(tmp / "mirrors", RetryPolicy{3, std::chrono::milliseconds(5)});
    GitAuth auth;
    auth.token = k_token;
    auth.credential_name = "git.token of acme/app";
    auto mirror = cache.update("acme/app", server.url("app.git"), "main", "", auth);
    ASSERT_FALSE(mirror.ok());
    EXPECT_EQ(mirror.error().kind, util::ErrorKind::auth) << mirror.error().message;
    EXPECT_NE(mirror.error().message.find("TLS certificate of 127.0.0.1 is not trusted"), std::string::npos)
        << mirror.error().message;
    EXPECT_EQ(server.unauthorized_count(), 0);  // refused before any credential was offered
}

TEST(GitNetworkFaults, ServerDownIsATransientErrorAfterRetries) {
    test::TempDir tmp;
    MirrorCache cache(tmp / "mirrors", RetryPolicy{3, std::chrono::milliseconds(5)});
    const std::string url = "http://127.0.0.1:" + std::to_string(test::free_port()) + "/app.git";
    auto mirror = cache.update("acme/app", url, "main", "", GitAuth{});
    ASSERT_FALSE(mirror.ok());
    EXPECT_EQ(mirror.error().kind, util::ErrorKind::transient) << mirror.error().message;
    EXPECT_NE(mirror.error().message.find("gave up after 3 attempts"), std::string::npos) << mirror.error().message;
}

// The plan of a server that accepts connections and never says a word.
test::ServerAction never_answer(const test::ReceivedRequest&) { return test::ServerAction::stall(); }

TEST(GitNetworkFaults, SilentServerTimesOutInsteadOfHanging) {
    test::TempDir tmp;
    test::HttpTestServer silent(never_answer);
    MirrorCache cache(tmp / "mirrors", RetryPolicy{2, std::chrono::milliseconds(5), std::chrono::milliseconds(300)});
    for (const std::string& scheme : {std::string("http"), std::string("git"), std::string("ssh")}) {
        const std::string url = scheme + "://127.0.0.1:" + std::to_string(silent.port()) + "/app.git";
        auto mirror = cache.update("acme/" + scheme, url, "main", "", GitAuth{});
        ASSERT_FALSE(mirror.ok()) << url;
        EXPECT_EQ(mirror.error().kind, util::ErrorKind::timeout) << mirror.error().message;
        EXPECT_NE(mirror.error().message.find("timed out"), std::string::npos) << mirror.error().message;
        EXPECT_NE(mirror.error().message.find("gave up after 2 attempts"), std::string::npos) << mirror.error().message;
    }
}

// A fetch from a server that accepted the connection but never answers would wait the whole stall
// timeout (a minute here); a cancel must end it within a second, as the checkout of a canceled build.
TEST(GitNetworkFaults, CancelStopsAHangingFetchWithinASecond) {
    test::TempDir tmp;
    test::HttpTestServer silent(never_answer);
    MirrorCache cache(tmp / "mirrors", RetryPolicy{3, std::chrono::milliseconds(5), std::chrono::seconds(60)});
    auto service = make_checkout_service(cache);
    for (const std::string& scheme : {std::string("http"), std::string("git")}) {
        CancelToken token;
        CheckoutRequest req;
        req.repo_key = "acme/" + scheme;
        req.clone_url = scheme + "://127.0.0.1:" + std::to_string(silent.port()) + "/app.git";
        req.ref = "main";
        req.dest_dir = tmp / ("work-" + scheme);
        req.cancel = &token;
        std::thread canceler([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let the fetch block on the socket
            token.cancel(CancelToken::Reason::canceled);
        });
        const auto started = std::chrono::steady_clock::now();
        auto co = service->checkout(req);
        const auto took = std::chrono::steady_clock::now() - started;
        canceler.join();
        ASSERT_FALSE(co.ok()) << req.clone_url;
        EXPECT_EQ(co.error().kind, util::ErrorKind::canceled) << co.error().message;
        EXPECT_LT(took, std::chrono::milliseconds(1300)) << scheme << ": canceled after 300 ms, ended within 1 s";
        EXPECT_FALSE(std::filesystem::exists(req.dest_dir));
    }
}

TEST(GitNetworkFaults, UnknownRepositoryOnGitDaemonIsNotFound) {
    test::TempDir tmp;
    test::SourceRepo source(tmp / "srv", "exists");
    test::GitDaemon daemon(tmp / "srv");
    MirrorCache cache(tmp / "mirrors", RetryPolicy{3, std::chrono::milliseconds(5)});
    auto mirror = cache.update("acme/nope", daemon.url("nope.git"), "main", "", GitAuth{});
    ASSERT_FALSE(mirror.ok());
    EXPECT_EQ(mirror.error().kind, util::ErrorKind::not_found) << mirror.error().message;
}

}  // namespace
}  // namespace hookyard::pipeline
