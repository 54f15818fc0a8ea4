// `hookyard config check -c FILE`: the contract scripts rely on (exit 0 + one-line summary, exit 2 +
// FILE:LINE: lines, secrets never printed), run against the real binary.

#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/support/support.hpp"

namespace hookyard::test {
namespace {

std::string hookyard_bin() { return binary_dir() + "/hookyard"; }

TEST(ConfigCheckCommand, ValidConfigExitsZeroWithSummary) {
    // The example has no default secrets; the README lists the variables it needs.
    ::setenv("GITHUB_WEBHOOK_SECRET", "check-webhook-secret-0123456789", 1);
    ::setenv("HOOKYARD_API_TOKEN", "check-api-token-0123456789", 1);
    ::setenv("OPS_SECRET", "check-ops-secret-0123456789", 1);
    std::string out;
    ASSERT_EQ(run({hookyard_bin(), "config", "check", "-c", source_dir() + "/examples/hookyard.yaml"}, &out), 0) << out;
    EXPECT_NE(out.find("examples/hookyard.yaml: valid: 3 registries, 2 repositories (4 rules), 2 subscribers"),
              std::string::npos)
        << out;
}

TEST(ConfigCheckCommand, InvalidConfigExitsTwoWithFileLineMessagesAndNoSecrets) {
    TempDir dir;
    const auto path = dir / "bad.yaml";
    write_file(path,
               "server: { webhook_secret: topsecret-value, listn: x }\n"
               "registries: { hub: { endpoint: docker.io, password: hunter2 } }\n"
               "repositories:\n"
               "  - { github: acme/web, registry: hub, push_repo: acme/web, rules: [{ source: main }] }\n");
    std::string out;
    EXPECT_EQ(run({hookyard_bin(), "config", "check", "-c", path}, &out), 2) << out;
    EXPECT_NE(out.find(path + ":1: unknown key 'listn' in server; did you mean 'listen'?"), std::string::npos) << out;
    EXPECT_NE(out.find(path + ":2: registry 'hub' has a password but no username"), std::string::npos) << out;
    EXPECT_NE(out.find(path + ":4: a rule has no tag"), std::string::npos) << out;
    EXPECT_EQ(out.find("topsecret-value"), std::string::npos) << out;
    EXPECT_EQ(out.find("hunter2"), std::string::npos) << out;
}

TEST(ConfigCheckCommand, MissingFileAndBadUsageExitTwo) {
    std::string out;
    EXPECT_EQ(run({hookyard_bin(), "config", "check", "-c", "/nonexistent.yaml"}, &out), 2);
    EXPECT_NE(out.find("/nonexistent.yaml: cannot read the config file"), std::string::npos) << out;
    EXPECT_EQ(run({hookyard_bin(), "config", "check"}, &out), 2);
    EXPECT_EQ(run({hookyard_bin(), "frobnicate"}, &out), 2);
    EXPECT_NE(out.find("unknown command 'frobnicate'"), std::string::npos);
}

// PrimeHub's shared push repository: two repositories whose prefixed tags can meet get a warning, exit 0.
TEST(ConfigCheckCommand, WarnsWhenTwoRepositoriesCanOverwriteEachOthersTags) {
    TempDir dir;
    const auto path = dir / "shared.yaml";
    write_file(path,
               "server: { webhook_secret: shared-webhook-secret-0123 }\n"
               "repositories:\n"
               "  - { github: acme/a, rules: [{ source: '/.*/', tag: 'b-{sourceref}' }] }\n"
               "  - { github: acme/a-b, rules: [{ source: main, tag: latest }] }\n"
               "  - { github: acme/web, rules: [{ source: main, tag: latest }] }\n");
    ::setenv("HOOKYARD_REGISTRY_ENDPOINT", "127.0.0.1:5000", 1);
    ::setenv("HOOKYARD_REGISTRY_PUSH_REPO", "127.0.0.1:5000/hub/images", 1);
    std::string out;
    const int rc = run({hookyard_bin(), "config", "check", "-c", path}, &out);
    ::unsetenv("HOOKYARD_REGISTRY_ENDPOINT");
    ::unsetenv("HOOKYARD_REGISTRY_PUSH_REPO");
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find(path + ":4: warning: repositories 'acme/a' and 'acme/a-b' both push to "
                              "127.0.0.1:5000/hub/images"),
              std::string::npos)
        << out;
    EXPECT_EQ(out.find("'acme/web'"), std::string::npos) << "web-latest meets no other tag: " << out;
}

}  // namespace
}  // namespace hookyard::test
