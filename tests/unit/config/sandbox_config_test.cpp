// builder.isolation, builder.network and builder.limits: defaults, every key, the checks, the warnings.

#include <gtest/gtest.h>

#include "config/builder.hpp"
#include "config/loader.hpp"
#include "tests/unit/config/config_messages.hpp"

namespace {

using hookyard::config::testing::all_messages;

using namespace hookyard::config;

LoadOutcome load_sandbox(const std::string& text) {
    return load_config_text("server: { webhook_secret: x }\n" + text, "h.yaml",
                            [](const std::string&) -> std::optional<std::string> { return {}; });
}

TEST(SandboxConfig, DefaultsAreOciPrivateAndTheDocumentedLimits) {
    const auto out = load_sandbox("");
    ASSERT_TRUE(out.config.has_value());
    const auto& b = out.config->builder;
    EXPECT_EQ(b.isolation, Isolation::oci);
    EXPECT_EQ(b.network.mode, NetworkMode::filtered);
    EXPECT_TRUE(b.network.allow.empty());
    EXPECT_EQ(b.limits.memory, 4ULL << 30);
    EXPECT_EQ(b.limits.pids, 4096);
    EXPECT_EQ(b.limits.cpus, 2);
    EXPECT_TRUE(sandbox_warnings(*out.config).empty());
}

TEST(SandboxConfig, ReadsEveryKeyAndNormalisesTheAllowList) {
    const auto out = load_sandbox(
        "builder: {isolation: chroot, network: {mode: none, allow: [10.1.2.3, 10.9.0.0/16, 10.9.1.7/16, "
        "'2001:db8::1/32']}, limits: {memory: 512MiB, pids: 100, cpus: 0.5}}\n");
    ASSERT_TRUE(out.config.has_value()) << all_messages(out);
    const auto& b = out.config->builder;
    EXPECT_EQ(b.isolation, Isolation::chroot);
    EXPECT_EQ(b.network.mode, NetworkMode::none);
    EXPECT_EQ(b.network.allow,
              (std::vector<std::string>{"10.1.2.3/32", "10.9.0.0/16", "10.9.0.0/16", "2001:db8::/32"}));
    EXPECT_EQ(b.limits.memory, 512ULL << 20);
    EXPECT_EQ(b.limits.pids, 100);
    EXPECT_EQ(b.limits.cpus, 0.5);
}

TEST(SandboxConfig, ReportsBadValuesOnTheirLine) {
    const auto out = load_sandbox(
        "builder:\n  isolation: vm\n  network: {mode: host, allow: [10.0.0.0/33, example.com]}\n"
        "  limits: {memory: lots, pids: 2, cpus: many}\n");
    ASSERT_FALSE(out.config.has_value());
    const std::string text = all_messages(out);
    EXPECT_NE(text.find("builder.isolation must be one of oci, chroot, not 'vm'"), std::string::npos) << text;
    EXPECT_NE(text.find("builder.network.mode must be one of private, none, not 'host'"), std::string::npos) << text;
    EXPECT_NE(text.find("'10.0.0.0/33' is not a CIDR"), std::string::npos) << text;
    EXPECT_NE(text.find("'example.com' is not a CIDR"), std::string::npos) << text;
    EXPECT_NE(text.find("builder.limits.cpus must be a number"), std::string::npos) << text;
    EXPECT_GE(out.diagnostics.size(), 7U) << text;
}

TEST(SandboxConfig, WarnsAboutChrootAndListsReposWithHooks) {
    const auto out = load_sandbox(
        "builder: {isolation: chroot}\nregistries: {r: {endpoint: https://r.example.com}}\n"
        "repositories:\n- {github: acme/trusted, registry: r, push_repo: acme/t, hooks: true, rules: [{source: "
        "main, tag: latest}]}\n- {github: acme/other, registry: r, push_repo: acme/o, rules: [{source: main, tag: "
        "latest}]}\n");
    ASSERT_TRUE(out.config.has_value()) << all_messages(out);
    const auto lines = sandbox_warnings(*out.config);
    ASSERT_EQ(lines.size(), 2U);
    EXPECT_NE(lines[0].find("isolation is chroot"), std::string::npos) << lines[0];
    EXPECT_NE(lines[1].find("acme/trusted has hooks: true"), std::string::npos) << lines[1];
}

TEST(SandboxConfig, ParsesCidrs) {
    EXPECT_EQ(parse_cidr("192.168.7.9/24")->text(), "192.168.7.0/24");
    EXPECT_EQ(parse_cidr("::1")->text(), "::1/128");
    EXPECT_FALSE(parse_cidr("1.2.3/8"));
    EXPECT_FALSE(parse_cidr("1.2.3.4/"));
    EXPECT_FALSE(parse_cidr("1.2.3.4/-1"));
}

}  // namespace
