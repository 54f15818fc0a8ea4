// ssh:// with a private key file, the server's host key checked against known_hosts.

#include <gtest/gtest.h>

#include "pipeline/checkout/mirror_cache.hpp"
#include "tests/support/git_server.hpp"
#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

class SshFixture : public ::testing::Test {
protected:
    SshFixture()
        : m_source(m_tmp / "srv", "app"), m_server(m_tmp / "sshd"), m_cache(m_tmp / "mirrors", RetryPolicy{1, {}}) {
        m_sha = m_source.commit({{"Dockerfile", "FROM scratch\n"}}, "one");
        m_source.push();
    }
    GitAuth key_auth(const std::string& key, const std::string& known_hosts) {
        GitAuth auth;
        auth.ssh_key_file = key;
        auth.ssh_known_hosts_file = known_hosts;
        auth.credential_name = "git.ssh_key_file of acme/app";
        return auth;
    }

    std::string m_sha;  // the commit pushed at construction
    test::TempDir m_tmp;
    test::SourceRepo m_source;
    test::SshGitServer m_server;
    MirrorCache m_cache;
};

TEST_F(SshFixture, FetchesWithTheKeyWhenTheHostKeyIsKnown) {
    auto mirror = m_cache.update("acme/app", m_server.url(m_source.bare()), "main", m_sha,
                                 key_auth(m_server.client_key(), m_server.known_hosts()));
    ASSERT_TRUE(mirror.ok()) << mirror.error().message;
    EXPECT_EQ(mirror->commit, m_sha);
}

TEST_F(SshFixture, UnknownHostKeyIsRefusedBeforeAuthenticating) {
    test::write_file(m_tmp / "empty_known_hosts", "# nothing here\n");
    auto mirror = m_cache.update("acme/app", m_server.url(m_source.bare()), "main", m_sha,
                                 key_auth(m_server.client_key(), m_tmp / "empty_known_hosts"));
    ASSERT_FALSE(mirror.ok());
    EXPECT_EQ(mirror.error().kind, util::ErrorKind::auth);
    EXPECT_NE(mirror.error().message.find("host key of 127.0.0.1 is not listed"), std::string::npos)
        << mirror.error().message;
}

TEST_F(SshFixture, KeyTheServerDoesNotAcceptIsAnAuthErrorNamingTheCredential) {
    ASSERT_EQ(test::run({"ssh-keygen", "-q", "-t", "ecdsa", "-b", "256", "-N", "", "-f", m_tmp / "stranger"}), 0);
    auto mirror = m_cache.update("acme/app", m_server.url(m_source.bare()), "main", m_sha,
                                 key_auth(m_tmp / "stranger", m_server.known_hosts()));
    ASSERT_FALSE(mirror.ok());
    EXPECT_EQ(mirror.error().kind, util::ErrorKind::auth);
    EXPECT_NE(mirror.error().message.find("git.ssh_key_file of acme/app"), std::string::npos) << mirror.error().message;
}

}  // namespace
}  // namespace hookyard::pipeline
