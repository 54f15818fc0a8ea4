// Tag template commit variables ({sha}, {sha:N}, {branch}, {tag}, {pr}, {date:…}): rendering, planning with the
// pushed commit, and the config check's FILE:LINE errors for unknown variables, bad lengths and formats.

#include "config/tag_template.hpp"

#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "config/rules.hpp"

namespace hookyard::config {
namespace {

const std::string k_sha = "0123456789abcdef0123456789abcdef01234567";

TagValues branch_values() {
    TagValues v;
    v.sourceref = "main";
    v.branch = "main";
    v.sha = k_sha;
    v.time_s = 1764720000;  // 2025-12-03T00:00:00Z
    return v;
}

LoadOutcome load_rule_tag(const std::string& tag) {
    const std::string text =
        "server: { webhook_secret: s }\nregistries: { hub: { endpoint: docker.io } }\n"
        "repositories: [{ github: acme/web, registry: hub, push_repo: acme/web,\n"
        "  rules: [{ source: main, tag: '" +
        tag + "' }] }]\n";
    return load_config_text(text, "hy.yaml", [](const std::string&) { return std::optional<std::string>(); });
}

// The one diagnostic of a config whose rule tag is `tag`: on the tag's line (4), naming `needle`.
void expect_tag_refused(const std::string& tag, const std::string& needle) {
    const auto out = load_rule_tag(tag);
    ASSERT_FALSE(out.config.has_value()) << tag;
    ASSERT_EQ(out.diagnostics.size(), 1u) << tag;
    EXPECT_EQ(out.diagnostics[0].str().rfind("hy.yaml:4:", 0), 0u) << out.diagnostics[0].str();
    EXPECT_NE(out.diagnostics[0].message.find(needle), std::string::npos) << out.diagnostics[0].message;
}

TEST(TagTemplate, RendersCommitVariables) {
    const auto v = branch_values();
    EXPECT_EQ(render_tag_template("{sha}", v), std::vector<std::string>{k_sha});
    EXPECT_EQ(render_tag_template("{branch}-{sha:7}, {date:%Y%m%d}", v),
              (std::vector<std::string>{"main-0123456", "20251203"}));
    EXPECT_EQ(render_tag_template("{date}", v), std::vector<std::string>{"20251203"});
    // On a branch push {tag} and {pr} are empty: the part renders nothing and is dropped.
    EXPECT_EQ(render_tag_template("{tag},pr-{pr}x,latest", v), (std::vector<std::string>{"pr-x", "latest"}));
}

TEST(TagTemplate, EmptyRenderNamesTheEmptyVariable) {
    const auto v = branch_values();
    EXPECT_TRUE(render_tag_template("{tag}", v).empty());
    EXPECT_NE(empty_render_reason("{tag}", v).find("{tag} is empty on branch pushes"), std::string::npos);
    EXPECT_NE(empty_render_reason("{pr}", v).find("{pr} is empty outside pull requests"), std::string::npos);
}

TEST(TagTemplate, UsesCommitOnlyForSha) {
    EXPECT_TRUE(uses_commit("latest,{sha:7}"));
    EXPECT_TRUE(uses_commit("{sha}"));
    EXPECT_FALSE(uses_commit("{branch}-{date:%Y}"));
}

TEST(TagTemplate, PlanRendersThePushedCommitAndFailsAnEmptyTemplate) {
    const auto out = load_rule_tag("{branch}-{sha:8}");
    ASSERT_TRUE(out.config) << out.diagnostics[0].str();
    PushInfo push;
    push.ref = "refs/heads/main";
    push.commit = k_sha;
    auto plan = plan_builds(out.config->repositories[0], push);
    ASSERT_EQ(plan.builds.size(), 1u);
    EXPECT_EQ(plan.builds[0].tags, std::vector<std::string>{"main-01234567"});
    EXPECT_TRUE(plan.builds[0].tag_error.empty());
    // A trigger build has no commit yet: no tag and no error until checkout renders it.
    push.commit.clear();
    plan = plan_builds(out.config->repositories[0], push);
    ASSERT_EQ(plan.builds.size(), 1u);
    EXPECT_TRUE(plan.builds[0].tags.empty());
    EXPECT_TRUE(plan.builds[0].tag_error.empty());

    const auto tag_only = load_rule_tag("{tag}");
    ASSERT_TRUE(tag_only.config);
    push.commit = k_sha;
    plan = plan_builds(tag_only.config->repositories[0], push);
    ASSERT_EQ(plan.builds.size(), 1u);
    EXPECT_NE(plan.builds[0].tag_error.find("{tag} is empty on branch pushes"), std::string::npos);
}

TEST(TagTemplate, ConfigCheckRefusesUnknownAndMalformedVariables) {
    expect_tag_refused("{commit}", "unknown variable {commit}");
    expect_tag_refused("{sha:0}", "length from 1 to 40");
    expect_tag_refused("{sha:41}", "length from 1 to 40");
    expect_tag_refused("{sha:x}", "length from 1 to 40");
    expect_tag_refused("{date:%Y%Q}", "not a strftime date format");
    expect_tag_refused("{date:}", "empty format");
    expect_tag_refused("{\\1}", "the source is not a regex");
    EXPECT_TRUE(load_rule_tag("{sha:7},{branch},{tag},{pr},{date:%Y-%m-%d}").config.has_value());
}

}  // namespace
}  // namespace hookyard::config
