// Multi-platform keys: rule and builder `platforms:` (os/arch[/variant], validated and normalised),
// builder.platform_parallelism, registries.X.manifest_format; and which platforms a rule builds.

#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "config/platform.hpp"

namespace hookyard::config {
namespace {

LoadOutcome load_platforms(const std::string& builder, const std::string& rule_extra,
                           const std::string& registry_extra = "") {
    auto env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    const std::string text = "server: { webhook_secret: x }\n" + builder + "registries:\n  hub: { endpoint: docker.io" +
                             registry_extra +
                             " }\n"
                             "repositories:\n"
                             "  - github: acme/web\n"
                             "    registry: hub\n"
                             "    push_repo: acme/web\n"
                             "    rules:\n"
                             "      - { source: main, tag: latest" +
                             rule_extra + " }\n";
    return load_config_text(text, "h.yaml", env);
}

std::string only_message(const LoadOutcome& r) {
    EXPECT_EQ(r.diagnostics.size(), 1u);
    return r.diagnostics.empty() ? "" : r.diagnostics[0].message;
}

TEST(PlatformConfig, DefaultsAreTheHostOnlyTwoAtOnceAndOciIndexes) {
    auto r = load_platforms("", "");
    ASSERT_TRUE(r.config.has_value());
    EXPECT_TRUE(r.config->builder.platforms.empty());
    EXPECT_EQ(r.config->builder.platform_parallelism, 2);
    EXPECT_EQ(r.config->registries.at("hub").manifest_format, ManifestFormat::oci);
    const auto& rule = r.config->repositories[0].rules[0];
    EXPECT_TRUE(platforms_for(r.config->builder, &rule).empty()) << "no platforms: the plain build of today";
}

TEST(PlatformConfig, RulePlatformsOverrideTheBuilderDefault) {
    auto r = load_platforms("builder: { platforms: [linux/amd64, linux/arm64], platform_parallelism: 3 }\n",
                            ", platforms: [linux/arm/v7, linux/arm64/v8]", ", manifest_format: docker");
    ASSERT_TRUE(r.config.has_value()) << only_message(r);
    EXPECT_EQ(r.config->builder.platforms, (std::vector<std::string>{"linux/amd64", "linux/arm64"}));
    EXPECT_EQ(r.config->builder.platform_parallelism, 3);
    EXPECT_EQ(r.config->registries.at("hub").manifest_format, ManifestFormat::docker);
    const auto& rule = r.config->repositories[0].rules[0];
    EXPECT_EQ(platforms_for(r.config->builder, &rule), (std::vector<std::string>{"linux/arm/v7", "linux/arm64/v8"}));
    EXPECT_EQ(platforms_for(r.config->builder, nullptr), r.config->builder.platforms);
}

TEST(PlatformConfig, MalformedPlatformsAreReportedWithTheFix) {
    EXPECT_NE(only_message(load_platforms("", ", platforms: [linux/aarch64]")).find("use linux/arm64"),
              std::string::npos);
    EXPECT_NE(only_message(load_platforms("", ", platforms: [arm64]")).find("os/arch[/variant]"), std::string::npos);
    EXPECT_NE(only_message(load_platforms("", ", platforms: [linux/amd64/v7]")).find("variant 'v7'"),
              std::string::npos);
    EXPECT_NE(only_message(load_platforms("", ", platforms: [windows/amd64]")).find("only os linux"),
              std::string::npos);
    EXPECT_NE(only_message(load_platforms("builder: { platforms: [linux/amd64, linux/amd64] }\n", ""))
                  .find("builder.platforms lists linux/amd64 twice"),
              std::string::npos);
    EXPECT_NE(only_message(load_platforms("", "", ", manifest_format: v2s2"))
                  .find("manifest_format must be one of oci, docker"),
              std::string::npos);
    EXPECT_FALSE(load_platforms("builder: { platform_parallelism: 0 }\n", "").config.has_value());
}

TEST(PlatformConfig, ParsesAndNamesPlatforms) {
    const auto arm = parse_platform("linux/arm/v7");
    ASSERT_TRUE(arm.has_value());
    EXPECT_EQ(arm->arch, "arm");
    EXPECT_EQ(arm->variant, "v7");
    EXPECT_EQ(arm->text(), "linux/arm/v7");
    EXPECT_FALSE(parse_platform("linux/").has_value());
    EXPECT_FALSE(parse_platform("linux/arm64/v8/x").has_value());
    EXPECT_EQ(host_platform().os, "linux");
    EXPECT_TRUE(parse_platform(host_platform().text()).has_value()) << host_platform().text();
    EXPECT_FALSE(is_multi_platform({}));
    EXPECT_FALSE(is_multi_platform({host_platform().text()}));
    EXPECT_TRUE(is_multi_platform({"linux/amd64", "linux/arm64"}));
}

}  // namespace
}  // namespace hookyard::config
