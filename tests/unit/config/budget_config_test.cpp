// builder.min_free_space, builder.cache_max_size and builder.pull: defaults and checks.

#include <gtest/gtest.h>

#include "config/loader.hpp"

namespace {

hookyard::config::LoadOutcome load_budget(const std::string& builder) {
    auto env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    return hookyard::config::load_config_text("server: { webhook_secret: x }\n" + builder, "h.yaml", env);
}

}  // namespace

TEST(BudgetConfig, DefaultsAre5GiBFree20GiBOfCacheAndAlwaysPull) {
    auto r = load_budget("");
    ASSERT_TRUE(r.config.has_value());
    EXPECT_EQ(r.config->builder.min_free_space, 5ULL << 30);
    EXPECT_EQ(r.config->builder.cache_max_size, 20ULL << 30);
    EXPECT_EQ(r.config->builder.pull, "always");
}

TEST(BudgetConfig, SizesTakeSuffixesAndPullIsOneOfThree) {
    auto r = load_budget("builder: { min_free_space: 500MB, cache_max_size: 2gib, pull: never }\n");
    ASSERT_TRUE(r.config.has_value());
    EXPECT_EQ(r.config->builder.min_free_space, 500'000'000u);
    EXPECT_EQ(r.config->builder.cache_max_size, 2ULL << 30);
    EXPECT_EQ(r.config->builder.pull, "never");
    auto bad = load_budget("builder: { pull: sometimes }\n");
    ASSERT_FALSE(bad.config.has_value());
    ASSERT_EQ(bad.diagnostics.size(), 1u);
    EXPECT_NE(bad.diagnostics[0].message.find("builder.pull must be one of always, missing, never"), std::string::npos);
    EXPECT_FALSE(load_budget("builder: { min_free_space: plenty }\n").config.has_value());
}
