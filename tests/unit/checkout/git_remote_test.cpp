// Pure helpers of the checkout stage: URL handling, error classification, known_hosts, mirror keys.

#include "pipeline/checkout/git_remote.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "pipeline/checkout/checkout.hpp"
#include "pipeline/checkout/mirror_cache.hpp"

namespace hookyard::pipeline {
namespace {

std::string b64(const std::string& raw) {
    std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

TEST(CloneUrl, ParsesHostAndDefaultPorts) {
    EXPECT_EQ(parse_clone_url("https://github.com/acme/web.git").host, "github.com");
    EXPECT_EQ(parse_clone_url("https://github.com/acme/web.git").port, 443);
    EXPECT_EQ(parse_clone_url("https://tok@git.example:8443/x").port, 8443);
    EXPECT_EQ(parse_clone_url("https://tok@git.example:8443/x").host, "git.example");
    EXPECT_EQ(parse_clone_url("git://127.0.0.1:9999/app.git").port, 9999);
    EXPECT_EQ(parse_clone_url("ssh://git@host/x").port, 22);
    EXPECT_EQ(parse_clone_url("git@github.com:acme/web.git").scheme, "ssh");
    EXPECT_EQ(parse_clone_url("git@github.com:acme/web.git").host, "github.com");
    EXPECT_EQ(parse_clone_url("/srv/git/app.git").scheme, "file");
    EXPECT_EQ(parse_clone_url("file:///srv/git/app.git").host, "");
}

TEST(GitErrorClassification, SortsFailuresIntoKinds) {
    using util::ErrorKind;
    EXPECT_EQ(classify_git_error(GIT_EAUTH, GIT_ERROR_HTTP, "authentication failed"), ErrorKind::auth);
    EXPECT_EQ(classify_git_error(-1, GIT_ERROR_HTTP, "unexpected http status code: 401"), ErrorKind::auth);
    EXPECT_EQ(classify_git_error(-1, GIT_ERROR_HTTP, "unexpected http status code: 404"), ErrorKind::not_found);
    EXPECT_EQ(classify_git_error(-1, GIT_ERROR_NET, "remote error: access denied or repository not exported"),
              ErrorKind::not_found);
    EXPECT_EQ(classify_git_error(-1, GIT_ERROR_HTTP, "unexpected http status code: 503"), ErrorKind::transient);
    EXPECT_EQ(classify_git_error(-1, GIT_ERROR_NET, "failed to connect to 127.0.0.1: Connection refused"),
              ErrorKind::transient);
    EXPECT_EQ(classify_git_error(-1, GIT_ERROR_NET, "early EOF"), ErrorKind::transient);
    EXPECT_EQ(classify_git_error(-1, GIT_ERROR_OS, "connection timed out"), ErrorKind::timeout);
    EXPECT_EQ(classify_git_error(-1, GIT_ERROR_ODB, "object is corrupt"), ErrorKind::internal);
}

TEST(KnownHosts, AcceptsPlainPortAndHashedEntriesWithTheRightKey) {
    const std::string key = std::string("\0\0\0\x0bssh-ed25519", 15) + "KEYBYTES-0123456789";
    const std::string other = std::string("\0\0\0\x0bssh-ed25519", 15) + "OTHERKEY-0123456789";
    const std::string plain = "# comment\ngit.example,10.0.0.1 ssh-ed25519 " + b64(key) + "\n";
    EXPECT_TRUE(known_hosts_accepts(plain, "git.example", 22, key));
    EXPECT_TRUE(known_hosts_accepts(plain, "10.0.0.1", 22, key));
    EXPECT_FALSE(known_hosts_accepts(plain, "git.example", 22, other));
    EXPECT_FALSE(known_hosts_accepts(plain, "evil.example", 22, key));
    EXPECT_FALSE(known_hosts_accepts(plain, "git.example", 2222, key));
    EXPECT_TRUE(known_hosts_accepts("[git.example]:2222 ssh-ed25519 " + b64(key) + "\n", "git.example", 2222, key));

    const std::string salt = "0123456789abcdefghij";
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    const std::string host = "hashed.example";
    HMAC(EVP_sha1(), salt.data(), static_cast<int>(salt.size()), reinterpret_cast<const unsigned char*>(host.data()),
         host.size(), mac, &len);
    const std::string hashed = "|1|" + b64(salt) + "|" + b64(std::string(reinterpret_cast<char*>(mac), len)) +
                               " ssh-ed25519 " + b64(key) + "\n";
    EXPECT_TRUE(known_hosts_accepts(hashed, "hashed.example", 22, key));
    EXPECT_FALSE(known_hosts_accepts(hashed, "other.example", 22, key));
}

TEST(SubmoduleUrl, ResolvesRelativeUrlsAgainstTheSuperproject) {
    EXPECT_EQ(resolve_submodule_url("https://github.com/acme/app.git", "../lib.git"),
              "https://github.com/acme/lib.git");
    EXPECT_EQ(resolve_submodule_url("https://github.com/acme/app", "../../other/lib"), "https://github.com/other/lib");
    EXPECT_EQ(resolve_submodule_url("git@github.com:acme/app.git", "../lib.git"), "git@github.com:acme/lib.git");
    EXPECT_EQ(resolve_submodule_url("https://h/a/app.git", "./sub.git"), "https://h/a/app.git/sub.git");
    EXPECT_EQ(resolve_submodule_url("https://h/a/app.git", "https://other/x.git"), "https://other/x.git");
}

TEST(SubmoduleAuth, CredentialsGoOnlyToTheSuperprojectsHost) {
    GitAuth auth;
    auth.token = "ghp_secret";
    auth.credential_name = "git.token of acme/app";
    EXPECT_EQ(submodule_auth("https://github.com/acme/app.git", "https://github.com/acme/lib.git", auth).token,
              "ghp_secret");
    const GitAuth other = submodule_auth("https://github.com/acme/app.git", "https://evil.example/lib.git", auth);
    EXPECT_TRUE(other.token.empty());
    EXPECT_NE(other.credential_name.find("only sent to github.com"), std::string::npos) << other.credential_name;
    EXPECT_TRUE(submodule_auth("https://h:8443/a", "https://h:9443/b", auth).token.empty());
}

// libgit2 ends the authority at '?': https://evil?@github.com/x is host evil, and gets no GitHub token.
TEST(SubmoduleAuth, ReadsTheHostAsLibgit2DoesAndComparesItExactly) {
    EXPECT_EQ(parse_clone_url("https://evil.example?@github.com/x").host, "evil.example");
    EXPECT_EQ(parse_clone_url("https://evil.example#@github.com/x").host, "evil.example");
    GitAuth auth;
    auth.token = "ghp_secret";
    EXPECT_TRUE(
        submodule_auth("https://github.com/a/app.git", "https://evil.example?@github.com/x", auth).token.empty());
    EXPECT_TRUE(
        submodule_auth("https://github.com/a/app.git", "https://github.com.evil.example/x", auth).token.empty());
    EXPECT_TRUE(submodule_auth("https://github.com/a/app.git", "http://github.com:443/x", auth).token.empty());
    EXPECT_TRUE(submodule_auth("/srv/app.git", "/srv/lib.git", auth).token.empty()) << "never to local paths";
    EXPECT_EQ(submodule_auth("https://github.com/a/app.git", "https://GitHub.com/a/lib.git", auth).token, "ghp_secret");
}

TEST(SubmoduleUrl, OnlyTheSuperprojectsHostListedHostsAndAllowedLocalPaths) {
    const std::string top = "https://github.com/acme/app.git";
    SubmodulePolicy policy;
    EXPECT_TRUE(check_submodule_url(top, "https://github.com/acme/lib.git", policy, "lib").ok());
    EXPECT_TRUE(check_submodule_url(top, "git@github.com:acme/lib.git", policy, "lib").ok());
    const auto other = check_submodule_url(top, "https://gitlab.com/x/lib.git", policy, "vendor/lib");
    ASSERT_FALSE(other.ok());
    EXPECT_NE(other.error().message.find("submodule vendor/lib"), std::string::npos);
    EXPECT_NE(other.error().message.find("git.submodule_hosts"), std::string::npos);
    EXPECT_FALSE(check_submodule_url(top, "https://evil?@github.com/x", policy, "lib").ok());
    EXPECT_FALSE(check_submodule_url(top, "https://github.com\\@evil/x", policy, "lib").ok());
    EXPECT_FALSE(check_submodule_url(top, "ext::sh -c touch% /tmp/pwned", policy, "lib").ok());
    const auto local = check_submodule_url(top, "file:///var/lib/hookyard/mirrors/b/c.git", policy, "lib");
    ASSERT_FALSE(local.ok());
    EXPECT_NE(local.error().message.find("git.allow_local_submodules"), std::string::npos);
    EXPECT_FALSE(check_submodule_url(top, "/var/lib/hookyard/mirrors/b/c.git", policy, "lib").ok());
    policy.extra_hosts = {"gitlab.com"};
    policy.allow_local = true;
    EXPECT_TRUE(check_submodule_url(top, "https://gitlab.com/x/lib.git", policy, "lib").ok());
    EXPECT_TRUE(check_submodule_url(top, "/srv/lib.git", policy, "lib").ok());
}

TEST(MirrorKey, UrlKeysDropCredentialsAndUnsafeCharacters) {
    EXPECT_EQ(MirrorCache::key_for_url("https://tok@github.com/acme/lib.git"), "_url/github.com_acme_lib");
    EXPECT_EQ(MirrorCache::key_for_url("git://127.0.0.1:9418/x/../y.git/"), "_url/127.0.0.1_9418_x_.._y");
}

TEST(MirrorKey, RejectsKeysThatWouldEscapeTheMirrorDir) {
    MirrorCache cache("/nonexistent-hookyard-test/mirrors");
    for (const std::string bad : {"../x", "acme/..", "", "acme//web", "acme/we b", "/abs"}) {
        auto r = cache.update(bad, "file:///nowhere", "main", "", GitAuth{});
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().kind, util::ErrorKind::invalid_input) << bad;
    }
}

TEST(GitAuthNames, NamesTheCredentialNotItsValue) {
    config::GitCredentials creds;
    creds.token = "ghp_secretvalue";
    const GitAuth auth = make_git_auth(creds, "acme/web");
    EXPECT_EQ(auth.credential_name, "git.token of acme/web");
    EXPECT_EQ(auth.scrub("failed with ghp_secretvalue here"), "failed with *** here");
    EXPECT_EQ(make_git_auth(config::GitCredentials{}, "").credential_name, "git (none) (global)");
}

}  // namespace
}  // namespace hookyard::pipeline
