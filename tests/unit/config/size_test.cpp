// Byte sizes in the config (builder.max_log_size and friends).

#include "config/size.hpp"

#include <gtest/gtest.h>

#include "config/loader.hpp"

using hookyard::config::parse_size;

TEST(ConfigSize, AcceptsSiAndBinarySuffixesCaseInsensitively) {
    EXPECT_EQ(parse_size("4096"), 4096u);
    EXPECT_EQ(parse_size("500MB"), 500'000'000u);
    EXPECT_EQ(parse_size("500mb"), 500'000'000u);
    EXPECT_EQ(parse_size("16MiB"), 16u * 1024 * 1024);
    EXPECT_EQ(parse_size("20gib"), 20ULL * 1024 * 1024 * 1024);
    EXPECT_EQ(parse_size("64 KiB"), 64u * 1024);
    EXPECT_EQ(parse_size("1kB"), 1000u);
}

TEST(ConfigSize, RejectsGarbageAndOverflow) {
    for (const char* text : {"", "MiB", "-1MiB", "12 parsecs", "1.5GiB", "99999999999999999999", "99999999999TiB"}) {
        EXPECT_FALSE(parse_size(text)) << text;
    }
}

TEST(ConfigSize, MaxLogSizeDefaultsTo16MiBAndIsChecked) {
    const std::string base = "server: { webhook_secret: x }\n";
    auto env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    auto defaults = hookyard::config::load_config_text(base, "h.yaml", env);
    ASSERT_TRUE(defaults.config.has_value());
    EXPECT_EQ(defaults.config->builder.max_log_size, 16u * 1024 * 1024);
    auto set = hookyard::config::load_config_text(base + "builder: { max_log_size: 2MB }\n", "h.yaml", env);
    ASSERT_TRUE(set.config.has_value());
    EXPECT_EQ(set.config->builder.max_log_size, 2'000'000u);
    auto bad = hookyard::config::load_config_text(base + "builder: { max_log_size: lots }\n", "h.yaml", env);
    ASSERT_FALSE(bad.config.has_value());
    ASSERT_EQ(bad.diagnostics.size(), 1u);
    EXPECT_NE(bad.diagnostics[0].message.find("must be a positive size"), std::string::npos);
}
