// base_images:, the rule keys reuse / rebuild_on_base_change and the repository key rebuild_when_pushed:
// defaults, reading, and the links' checks (unknown names, cycles).

#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "tests/unit/config/config_messages.hpp"

using namespace std::chrono_literals;

namespace {

using hookyard::config::testing::all_messages;

hookyard::config::LoadOutcome load_links(const std::string& text) {
    return hookyard::config::load_config_text(
        "server: { webhook_secret: a-long-enough-secret }\n"
        "registries: { default: { endpoint: 'https://registry.example.com' } }\n" +
            text,
        "h.yaml", [](const std::string&) -> std::optional<std::string> { return {}; });
}

std::string repo(const std::string& name, const std::string& links, const std::string& rule_keys = "") {
    return "  - { github: " + name + ", push_repo: registry.example.com/" + name + ", rebuild_when_pushed: [" + links +
           "], rules: [{ source: main, tag: latest" + rule_keys + " }] }\n";
}

}  // namespace

TEST(BaseImagesConfig, DefaultsAndKeys) {
    const auto defaults = load_links("repositories:\n" + repo("acme/app", ""));
    ASSERT_TRUE(defaults.config.has_value()) << all_messages(defaults);
    EXPECT_EQ(defaults.config->base_images.watch_interval, std::chrono::seconds(1h));
    const auto& rule = defaults.config->repositories[0].rules[0];
    EXPECT_TRUE(rule.reuse);
    EXPECT_FALSE(rule.rebuild_on_base_change);

    const auto set = load_links("base_images: { watch_interval: 15m }\nrepositories:\n" + repo("acme/base", "") +
                                repo("acme/app", "acme/base", ", reuse: false, rebuild_on_base_change: true"));
    ASSERT_TRUE(set.config.has_value()) << all_messages(set);
    EXPECT_EQ(set.config->base_images.watch_interval, std::chrono::seconds(15min));
    const auto& app = set.config->repositories[1];
    EXPECT_EQ(app.rebuild_when_pushed, std::vector<std::string>{"acme/base"});
    EXPECT_FALSE(app.rules[0].reuse);
    EXPECT_TRUE(app.rules[0].rebuild_on_base_change);
    EXPECT_FALSE(load_links("base_images: { watch_interval: 0s }\n").config.has_value());
    EXPECT_FALSE(load_links("base_images: { interval: 1h }\n").config.has_value());
}

TEST(BaseImagesConfig, LinksMustNameConfiguredRepositoriesAndFormNoCycle) {
    const auto unknown = load_links("repositories:\n" + repo("acme/app", "acme/nope"));
    ASSERT_FALSE(unknown.config.has_value());
    EXPECT_NE(all_messages(unknown).find("acme/nope, which is not a configured repository"), std::string::npos)
        << all_messages(unknown);

    const auto cycle =
        load_links("repositories:\n" + repo("acme/a", "acme/b") + repo("acme/b", "acme/c") + repo("acme/c", "acme/a"));
    ASSERT_FALSE(cycle.config.has_value());
    EXPECT_NE(all_messages(cycle).find("cycle: acme/a → acme/b → acme/c → acme/a"), std::string::npos)
        << all_messages(cycle);
    EXPECT_FALSE(load_links("repositories:\n" + repo("acme/a", "acme/a")).config.has_value());
    EXPECT_TRUE(
        load_links("repositories:\n" + repo("acme/a", "") + repo("acme/b", "acme/a") + repo("acme/c", "acme/a, acme/b"))
            .config.has_value())
        << "a diamond is no cycle";
}
