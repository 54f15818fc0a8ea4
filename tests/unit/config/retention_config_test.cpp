// retention: in the config, its defaults and its checks.

#include <gtest/gtest.h>

#include "config/loader.hpp"

using namespace std::chrono_literals;

namespace {

hookyard::config::LoadOutcome load_retention(const std::string& text) {
    return hookyard::config::load_config_text("server: { webhook_secret: x }\n" + text, "h.yaml",
                                              [](const std::string&) -> std::optional<std::string> { return {}; });
}

}  // namespace

TEST(RetentionConfig, DefaultsAreDocumented) {
    const auto out = load_retention("");
    ASSERT_TRUE(out.config.has_value());
    const auto& r = out.config->retention;
    EXPECT_EQ(r.builds, std::chrono::seconds(90 * 24h));
    EXPECT_EQ(r.keep_per_rule, 20);
    EXPECT_EQ(r.deliveries, std::chrono::seconds(30 * 24h));
    EXPECT_EQ(r.kept_workdirs, std::chrono::seconds(7 * 24h));
    EXPECT_EQ(r.interval, std::chrono::seconds(1h));
}

TEST(RetentionConfig, ReadsEveryKey) {
    const auto out = load_retention(
        "retention: {builds: 10d, keep_per_rule: 3, deliveries: 2d, kept_workdirs: 1d, interval: 15m}\n");
    ASSERT_TRUE(out.config.has_value());
    const auto& r = out.config->retention;
    EXPECT_EQ(r.builds, std::chrono::seconds(10 * 24h));
    EXPECT_EQ(r.keep_per_rule, 3);
    EXPECT_EQ(r.deliveries, std::chrono::seconds(2 * 24h));
    EXPECT_EQ(r.kept_workdirs, std::chrono::seconds(24h));
    EXPECT_EQ(r.interval, std::chrono::seconds(15min));
}

TEST(RetentionConfig, RejectsBadValuesAndUnknownKeys) {
    EXPECT_FALSE(load_retention("retention: {builds: forever}\n").config.has_value());
    EXPECT_FALSE(load_retention("retention: {keep_per_rule: -1}\n").config.has_value());
    const auto typo = load_retention("retention: {interval: 1h, keep_per_rul: 3}\n");
    ASSERT_FALSE(typo.config.has_value());
    ASSERT_FALSE(typo.diagnostics.empty());
    EXPECT_NE(typo.diagnostics[0].message.find("keep_per_rule"), std::string::npos);
}
