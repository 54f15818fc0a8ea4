// Build planning: Docker Hub's rule semantics (exact, regex, capture groups, tag vs branch), paths
// filters, autobuild off, skip markers, several rules matching one ref, tag sanitising and image naming.

#include "config/rules.hpp"

#include <gtest/gtest.h>

#include "config/loader.hpp"

namespace hookyard::config {
namespace {

RepositoryConfig repo_with(const std::string& rules_yaml, const std::string& naming = "push_repo: acme/web") {
    const std::string text =
        "server: { webhook_secret: s }\n"
        "registries: { hub: { endpoint: docker.io } }\n"
        "repositories:\n"
        "  - github: acme/web\n"
        "    registry: hub\n"
        "    " +
        naming +
        "\n"
        "    rules:\n" +
        rules_yaml;
    auto out = load_config_text(text, "t.yaml", [](const std::string&) { return std::optional<std::string>(); });
    if (!out.config) {
        std::string all;
        for (const auto& d : out.diagnostics) all += d.str() + "\n";
        ADD_FAILURE() << all;
        return {};
    }
    return out.config->repositories.at(0);
}

PushInfo push(std::string ref, std::vector<std::string> changed = {}, std::string message = "change") {
    PushInfo p;
    p.ref = std::move(ref);
    p.changed_files = std::move(changed);
    p.head_commit_message = std::move(message);
    return p;
}

// Plans `ref` with one rule (a YAML line); the plan must be empty: returns why nothing was built.
std::string skipped(const std::string& rule_line, const std::string& ref) {
    const auto plan = plan_builds(repo_with(rule_line), push(ref));
    EXPECT_TRUE(plan.builds.empty()) << ref;
    return plan.skipped_reason;
}

TEST(PlanBuilds, ExactBranchMatchPlansOneBuildWithImage) {
    const auto repo = repo_with("      - { source_type: branch, source: main, tag: latest }\n");
    const auto plan = plan_builds(repo, push("refs/heads/main"));
    ASSERT_EQ(plan.builds.size(), 1u);
    EXPECT_EQ(plan.builds[0].tags, std::vector<std::string>{"latest"});
    EXPECT_EQ(plan.builds[0].images, std::vector<std::string>{"docker.io/acme/web:latest"});
    EXPECT_EQ(plan.builds[0].dockerfile, "Dockerfile");
    EXPECT_EQ(plan.builds[0].context, "/");
    EXPECT_TRUE(plan_builds(repo, push("refs/heads/mainline")).builds.empty());
}

TEST(PlanBuilds, BranchRuleDoesNotMatchTagOfSameName) {
    EXPECT_EQ(skipped("      - { source_type: branch, source: main, tag: latest }\n", "refs/tags/main"),
              "no rule matches tag 'main'");
}

TEST(PlanBuilds, RegexMustMatchTheWholeNameAndFillsCaptureGroups) {
    const auto repo =
        repo_with("      - { source_type: tag, source: '/v([0-9]+)\\.([0-9]+)/', tag: '{\\1}.{\\2},{\\1}' }\n");
    const auto plan = plan_builds(repo, push("refs/tags/v1.2"));
    ASSERT_EQ(plan.builds.size(), 1u);
    EXPECT_EQ(plan.builds[0].tags, (std::vector<std::string>{"1.2", "1"}));
    EXPECT_TRUE(plan_builds(repo, push("refs/tags/v1.2-rc1")).builds.empty()) << "regex is matched in full";
    EXPECT_TRUE(plan_builds(repo, push("refs/tags/xv1.2")).builds.empty());
}

TEST(PlanBuilds, NestedQuantifierAgainstANearMatchDoesNotBacktrack) {
    // std::regex took seconds (and deep recursion) here; RE2 answers in time linear in the name.
    const auto repo = repo_with("      - { source_type: branch, source: '/^(a+)+$/', tag: '{\\1}' }\n");
    const auto plan = plan_builds(repo, push("refs/heads/" + std::string(30, 'a') + "b"));
    EXPECT_TRUE(plan.builds.empty());
    const auto matched = plan_builds(repo, push("refs/heads/" + std::string(30, 'a')));
    ASSERT_EQ(matched.builds.size(), 1u);
    EXPECT_EQ(matched.builds[0].tags, std::vector<std::string>{std::string(30, 'a')});
}

TEST(PlanBuilds, SourcerefIsSanitisedLikeDockerHub) {
    const auto repo = repo_with("      - { source_type: branch, source: '/.*/', tag: '{sourceref}' }\n");
    const auto plan = plan_builds(repo, push("refs/heads/feature/Login@2x"));
    ASSERT_EQ(plan.builds.size(), 1u);
    EXPECT_EQ(plan.builds[0].tags, std::vector<std::string>{"feature-Login2x"});
}

TEST(PlanBuilds, EverySatisfiedRulePlansItsOwnBuildInOrder) {
    const auto repo = repo_with(
        "      - { source_type: branch, source: main, tag: latest }\n"
        "      - { source_type: branch, source: '/^(ma)in$/', tag: '{\\1}-{sourceref}', dockerfile: Dockerfile.alt, "
        "build_args: { CHANNEL: edge } }\n"
        "      - { source_type: branch, source: dev, tag: dev }\n");
    const auto plan = plan_builds(repo, push("refs/heads/main"));
    ASSERT_EQ(plan.builds.size(), 2u);
    EXPECT_EQ(plan.builds[0].rule_index, 0u);
    EXPECT_EQ(plan.builds[1].rule_index, 1u);
    EXPECT_EQ(plan.builds[1].tags, std::vector<std::string>{"ma-main"});
    EXPECT_EQ(plan.builds[1].dockerfile, "Dockerfile.alt");
    EXPECT_EQ(plan.builds[1].build_args.at("CHANNEL"), "edge");
}

TEST(PlanBuilds, AutobuildOffPlansOnlyManualBuilds) {
    const auto repo = repo_with("      - { source_type: branch, source: main, tag: latest, autobuild: false }\n");
    const auto automatic = plan_builds(repo, push("refs/heads/main"));
    EXPECT_TRUE(automatic.builds.empty());
    EXPECT_NE(automatic.skipped_reason.find("autobuild: false"), std::string::npos);
    auto manual = push("refs/heads/main");
    manual.manual = true;
    EXPECT_EQ(plan_builds(repo, manual).builds.size(), 1u);
}

TEST(PlanBuilds, PathsFilterSkipsPushesOutsideTheService) {
    const auto repo = repo_with(
        "      - { source_type: branch, source: main, tag: latest, paths: ['services/api/**', 'libs/**'], "
        "ignore_paths: ['**/*.md'] }\n");
    EXPECT_EQ(plan_builds(repo, push("refs/heads/main", {"services/api/main.go"})).builds.size(), 1u);
    EXPECT_EQ(plan_builds(repo, push("refs/heads/main", {"docs/x.txt", "libs/a/b.c"})).builds.size(), 1u);
    const auto outside = plan_builds(repo, push("refs/heads/main", {"services/web/index.js"}));
    EXPECT_TRUE(outside.builds.empty());
    EXPECT_NE(outside.skipped_reason.find("paths filters"), std::string::npos);
    EXPECT_TRUE(plan_builds(repo, push("refs/heads/main", {"services/api/README.md"})).builds.empty())
        << "a push that changes only ignored files builds nothing";
    EXPECT_EQ(plan_builds(repo, push("refs/heads/main", {})).builds.size(), 1u)
        << "a push that lists no files (tag push) is not filtered";
}

TEST(PlanBuilds, IgnorePathsAloneSkipsDocsOnlyPushes) {
    const auto repo =
        repo_with("      - { source_type: branch, source: main, tag: latest, ignore_paths: [docs, '*.md'] }\n");
    EXPECT_TRUE(plan_builds(repo, push("refs/heads/main", {"docs/a/b.txt", "README.md"})).builds.empty());
    EXPECT_EQ(plan_builds(repo, push("refs/heads/main", {"README.md", "src/x.c"})).builds.size(), 1u);
}

TEST(PlanBuilds, SkipMarkersInHeadCommitPlanNothing) {
    const auto repo = repo_with("      - { source_type: branch, source: main, tag: latest }\n");
    for (const char* msg : {"docs [skip build]", "[build skip] x", "wip [skip ci]"}) {
        const auto plan = plan_builds(repo, push("refs/heads/main", {}, msg));
        EXPECT_TRUE(plan.builds.empty()) << msg;
        EXPECT_NE(plan.skipped_reason.find("head commit message contains"), std::string::npos);
    }
}

TEST(PlanBuilds, IgnoresRefsThatAreNeitherBranchNorTag) {
    EXPECT_EQ(skipped("      - { source_type: branch, source: '/.*/', tag: latest }\n", "refs/pull/1/head"),
              "ref refs/pull/1/head is neither a branch nor a tag");
}

TEST(PlanBuilds, PrefixNamingUsesLowerCasedRepositoryName) {
    const auto repo =
        repo_with("      - { source_type: branch, source: main, tag: latest }\n", "push_repo_prefix: docker.io/acme");
    const auto plan = plan_builds(repo, push("refs/heads/main"));
    ASSERT_EQ(plan.builds.size(), 1u);
    EXPECT_EQ(plan.builds[0].images, std::vector<std::string>{"docker.io/acme/web:latest"});
}

TEST(RenderTags, DropsEmptyAndDuplicateTagsAndCapsLength) {
    EXPECT_EQ(render_tags("{sourceref}, latest ,latest", "main", {}), (std::vector<std::string>{"main", "latest"}));
    EXPECT_EQ(render_tags("{\\1}", "x", {""}), std::vector<std::string>{});
    EXPECT_EQ(render_tags("{sourceref}", std::string(300, 'a'), {})[0].size(), 128u);
    EXPECT_EQ(render_tags("{sourceref}", "-.-v1", {})[0], "v1");
}

// Only a tag that sanitising changed can collide with another ref's: `lat@est` becomes `latest`.
TEST(PlanBuilds, RecordsWhichTagsSanitisingChanged) {
    const auto repo =
        repo_with("      - { source_type: branch, source: '/.*/', tag: '{sourceref},latest,x-{sourceref}' }\n");
    const auto planned = [&](const std::string& ref) {
        const auto plan = plan_builds(repo, push(ref));
        EXPECT_EQ(plan.builds.size(), 1u) << ref;
        return plan.builds.empty() ? PlannedBuild{} : plan.builds[0];
    };
    const auto odd = planned("refs/heads/lat@est");
    EXPECT_EQ(odd.tags, (std::vector<std::string>{"latest", "x-latest"}));
    EXPECT_EQ(odd.sanitized_tags, (std::vector<std::string>{"latest", "x-latest"}));
    EXPECT_TRUE(planned("refs/heads/main").sanitized_tags.empty());
    std::vector<std::string> changed;
    EXPECT_EQ(render_tags("{sourceref}", "feature/x", {}, &changed), std::vector<std::string>{"feature-x"});
    EXPECT_EQ(changed, std::vector<std::string>{"feature-x"});
}

TEST(GlobMatch, SegmentsAndDoubleStar) {
    EXPECT_TRUE(glob_match("*.md", "README.md"));
    EXPECT_FALSE(glob_match("*.md", "docs/README.md"));
    EXPECT_TRUE(glob_match("**/*.md", "README.md"));
    EXPECT_TRUE(glob_match("**/*.md", "a/b/README.md"));
    EXPECT_TRUE(glob_match("src/**", "src/a/b.c"));
    EXPECT_TRUE(glob_match("src/?.c", "src/a.c"));
    EXPECT_FALSE(glob_match("src/?.c", "src/ab.c"));
    EXPECT_TRUE(glob_match("docs", "docs/x/y"));
    EXPECT_FALSE(glob_match("docs", "docsx/y"));
    EXPECT_TRUE(glob_match("/services/api/", "services/api/main.go"));
}

}  // namespace
}  // namespace hookyard::config
