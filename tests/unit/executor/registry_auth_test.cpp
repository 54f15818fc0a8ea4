// The files a build's FROM pulls get: containers-auth.json, registries.conf, their modes and lifetime.

#include "pipeline/executor/registry_auth.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "config/loader.hpp"
#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;

PullRegistry with_password(const std::string& host) { return {"r", host, false, "alice", "s3cret", ""}; }

nlohmann::json auths_of(const std::string& text) { return nlohmann::json::parse(text)["auths"]; }

unsigned mode_of(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_mode & 0777U : 0U;
}

TEST(PullAuthJson, UsernameAndPasswordBecomeABasicAuthEntryForTheHost) {
    auto json = pull_auth_json({with_password("registry.example.com:5000")}, "");
    ASSERT_TRUE(json.ok()) << json.error().message;
    // base64("alice:s3cret")
    EXPECT_EQ(auths_of(*json)["registry.example.com:5000"]["auth"], "YWxpY2U6czNjcmV0");
}

TEST(PullAuthJson, NothingToWriteWithoutCredentials) {
    auto json = pull_auth_json({{"r", "ghcr.io", false, "", "", ""}}, "");
    ASSERT_TRUE(json.ok());
    EXPECT_EQ(*json, "");
}

TEST(PullAuthJson, CredentialsFileEntryOfTheHostIsCopiedAndTheServiceAuthFileKept) {
    test::TempDir dir;
    const std::string file = dir / "config.json";
    test::write_file(file, R"({"auths": {"https://index.docker.io/v1/": {"auth": "aHViOnB3"},
                                         "other.io": {"auth": "b3RoZXI6cHc="}}})");
    const std::string base = dir / "service-auth.json";
    test::write_file(base, R"({"auths": {"quay.io": {"auth": "cXVheTpwdw=="}, "docker.io": {"auth": "b2xkOnB3"}}})");
    auto json = pull_auth_json({{"hub", "docker.io", false, "", "", file}}, base);
    ASSERT_TRUE(json.ok()) << json.error().message;
    const auto auths = auths_of(*json);
    EXPECT_EQ(auths["docker.io"]["auth"], "aHViOnB3");  // the configured registry wins over the service's
    EXPECT_EQ(auths["quay.io"]["auth"], "cXVheTpwdw==");
    EXPECT_FALSE(auths.contains("other.io"));
}

TEST(PullAuthJson, UnreadableCredentialsFileNamesItAndTheRegistry) {
    test::TempDir dir;
    test::write_file(dir / "bad.json", "{not json");
    auto json = pull_auth_json({{"gcr", "gcr.io", false, "", "", dir / "bad.json"}}, "");
    ASSERT_FALSE(json.ok());
    EXPECT_EQ(json.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(json.error().message.find("registry 'gcr'"), std::string::npos) << json.error().message;
    EXPECT_NE(json.error().message.find("bad.json"), std::string::npos) << json.error().message;
}

TEST(PullRegistriesConf, HttpRegistriesAreInsecureAfterTheHostsFile) {
    std::vector<PullRegistry> regs{with_password("ghcr.io"), {"local", "127.0.0.1:5000", true, "", "", ""}};
    const auto conf = pull_registries_conf(regs, "unqualified-search-registries = [\"docker.io\"]");
    EXPECT_EQ(conf.find("unqualified-search-registries"), conf.find('\n') + 1) << conf;
    EXPECT_NE(conf.find("[[registry]]\nlocation = \"127.0.0.1:5000\"\ninsecure = true\n"), std::string::npos) << conf;
    EXPECT_EQ(conf.find("ghcr.io"), std::string::npos) << conf;
    EXPECT_EQ(pull_registries_conf({with_password("ghcr.io")}, "x = 1\n"), "");
}

TEST(PullRegistriesFromConfig, HttpEndpointsArePulledWithoutTls) {
    const auto loaded = config::load_config_text(
        "registries:\n  local: {endpoint: 'http://127.0.0.1:5000', username: u, password: p}\n"
        "  hub: {endpoint: docker.io}\n",
        "h.yaml", [](const std::string&) { return std::optional<std::string>(); });
    ASSERT_TRUE(loaded.config) << (loaded.diagnostics.empty() ? "" : loaded.diagnostics.front().message);
    const auto regs = pull_registries(loaded.config->registries);
    ASSERT_EQ(regs.size(), 2U);
    EXPECT_EQ(regs[0].host, "docker.io");
    EXPECT_FALSE(regs[0].insecure);
    EXPECT_EQ(regs[1].host, "127.0.0.1:5000");
    EXPECT_TRUE(regs[1].insecure);
    EXPECT_EQ(regs[1].password, "p");
}

TEST(PullCredentialsFiles, OwnerOnlyAndGoneWithTheBuild) {
    test::TempDir dir;
    const std::string root = dir / "credentials";
    std::string auth_file, conf_file;
    {
        auto creds = PullCredentials::write(root, "b 7/x", {with_password("h.io"), {"l", "l:1", true, "", "", ""}}, {});
        ASSERT_TRUE(creds.ok()) << creds.error().message;
        auth_file = (*creds)->auth_file();
        conf_file = (*creds)->registries_conf();
        ASSERT_TRUE(fs::exists(auth_file));
        EXPECT_EQ(mode_of(auth_file), 0600U);
        EXPECT_EQ(mode_of(conf_file), 0600U);
        EXPECT_EQ(mode_of((*creds)->dir()), 0700U);
        EXPECT_EQ(mode_of(root), 0700U);
        EXPECT_EQ(
            fs::path((*creds)->dir()).filename().string().rfind("pull-" + std::to_string(::getpid()) + "-b_7_x-", 0),
            0U);
    }
    EXPECT_FALSE(fs::exists(auth_file));
    EXPECT_TRUE(fs::is_empty(root));
    auto none = PullCredentials::write(root, "b8", {{"r", "h.io", false, "", "", ""}}, {});
    ASSERT_TRUE(none.ok());
    EXPECT_EQ((*none)->auth_file(), "");
    EXPECT_TRUE(fs::is_empty(root));
}

TEST(PullCredentialsFiles, StartUpRemovesWhatDeadProcessesLeftOnly) {
    test::TempDir dir;
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ::waitpid(child, nullptr, 0);  // reaped: its pid names no process now
    fs::create_directories(dir / ("pull-" + std::to_string(child) + "-b1-abcdef"));
    test::write_file(dir / ("pull-" + std::to_string(child) + "-b1-abcdef") + "/auth.json", "{}");
    fs::create_directories(dir / ("pull-" + std::to_string(::getpid()) + "-b2-abcdef"));
    fs::create_directories(dir / "unrelated");
    EXPECT_EQ(remove_stale_pull_credentials(dir.path()), 1);
    EXPECT_FALSE(fs::exists(dir / ("pull-" + std::to_string(child) + "-b1-abcdef")));
    EXPECT_TRUE(fs::exists(dir / ("pull-" + std::to_string(::getpid()) + "-b2-abcdef")));
    EXPECT_TRUE(fs::exists(dir / "unrelated"));
}

TEST(ExplainPullRefusal, SaysWhichRegistryWantsCredentialsAndWhere) {
    const util::Error refused{util::ErrorKind::not_found, "the FROM image x cannot be pulled: unauthorized"};
    const auto bare = explain_pull_refusal(refused, "127.0.0.1:5000/base:1", {});
    EXPECT_NE(bare.message.find("registry 127.0.0.1:5000 wants credentials: add it under registries:"),
              std::string::npos)
        << bare.message;
    const auto configured =
        explain_pull_refusal(refused, "127.0.0.1:5000/base:1", {{"loc", "127.0.0.1:5000", true, "u", "p", ""}});
    EXPECT_NE(configured.message.find("refused the credentials of registries: 'loc'"), std::string::npos)
        << configured.message;
    const util::Error other{util::ErrorKind::not_found, "manifest unknown"};
    EXPECT_EQ(explain_pull_refusal(other, "127.0.0.1:5000/base:1", {}).message, "manifest unknown");
}

}  // namespace
}  // namespace hookyard::pipeline
