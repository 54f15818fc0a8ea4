// Image naming across repositories: PrimeHub's shared push repository gives each repository's tags its image
// name as a prefix, and `config check` warns when two repositories can overwrite each other's tags. Also the
// issue-11 keys the loader reads (allow_tag_collisions, submodule hosts, rate_limit).

#include "config/naming.hpp"

#include <gtest/gtest.h>

#include <map>

#include "config/loader.hpp"
#include "config/rules.hpp"

namespace hookyard::config {
namespace {

LoadOutcome load_named(const std::string& text, const std::map<std::string, std::string>& vars) {
    return load_config_text(text, "hookyard.yaml", [vars](const std::string& name) -> std::optional<std::string> {
        const auto it = vars.find(name);
        return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    });
}

const std::map<std::string, std::string> k_primehub = {{"HOOKYARD_REGISTRY_ENDPOINT", "127.0.0.1:5000"},
                                                       {"HOOKYARD_REGISTRY_PUSH_REPO", "127.0.0.1:5000/hub/images"}};

const char* const k_two_repos = R"(server: { webhook_secret: a-long-enough-secret-1 }
repositories:
  - github: acme/Web
    rules: [{ source: main, tag: latest }]
  - github: acme/api
    rules: [{ source: main, tag: latest }]
  - github: acme/own
    push_repo: 127.0.0.1:5000/acme/own
    rules: [{ source: main, tag: latest }]
)";

PushInfo push_of(const std::string& ref) {
    PushInfo p;
    p.ref = ref;
    return p;
}

TEST(SharedPushRepo, EachRepositoryWithoutANamingKeyPushesImageNameDashTag) {
    const auto out = load_named(k_two_repos, k_primehub);
    ASSERT_TRUE(out.config) << out.diagnostics.at(0).str();
    const auto& repos = out.config->repositories;
    const auto web = plan_builds(repos[0], push_of("refs/heads/main"));
    ASSERT_EQ(web.builds.size(), 1u);
    EXPECT_EQ(web.builds[0].images, std::vector<std::string>{"127.0.0.1:5000/hub/images:web-latest"});
    const auto api = plan_builds(repos[1], push_of("refs/heads/main"));
    EXPECT_EQ(api.builds.at(0).images, std::vector<std::string>{"127.0.0.1:5000/hub/images:api-latest"});
    // A repository's own push_repo keeps R:<tag>.
    const auto own = plan_builds(repos[2], push_of("refs/heads/main"));
    EXPECT_EQ(own.builds.at(0).images, std::vector<std::string>{"127.0.0.1:5000/acme/own:latest"});
    EXPECT_TRUE(out.warnings.empty()) << out.warnings.at(0).str();
}

TEST(SharedPushRepo, ConfigCheckWarnsWhenTwoRepositoriesCanRenderTheSameTag) {
    // "a" with tag b-{sourceref} and "a-b" with {sourceref} both render a-b-x on the shared repository.
    const std::string text = R"(server: { webhook_secret: a-long-enough-secret-1 }
repositories:
  - github: acme/a
    rules: [{ source: '/.*/', tag: 'b-{sourceref}' }]
  - github: acme/a-b
    rules: [{ source: main, tag: latest }, { source: '/.*/', tag: '{sourceref}' }]
  - github: acme/c
    push_repo: 127.0.0.1:5000/shared/one
    rules: [{ source: main, tag: latest }]
  - github: acme/d
    push_repo: 127.0.0.1:5000/shared/one
    rules: [{ source: '/^v(.*)$/', source_type: tag, tag: 'v{\1}' }, { source: dev, tag: latest }]
)";
    const auto out = load_named(text, k_primehub);
    ASSERT_TRUE(out.config) << out.diagnostics.at(0).str();
    ASSERT_EQ(out.warnings.size(), 2u);
    EXPECT_EQ(out.warnings[0].line, 5);
    EXPECT_NE(out.warnings[0].message.find("'acme/a' and 'acme/a-b' both push to 127.0.0.1:5000/hub/images"),
              std::string::npos)
        << out.warnings[0].message;
    EXPECT_EQ(out.warnings[1].line, 10);
    EXPECT_NE(out.warnings[1].message.find("('latest' and 'latest'"), std::string::npos) << out.warnings[1].message;
}

TEST(SharedPushRepo, PatternsOverlapWhenSomeTagMatchesBoth) {
    struct Case {
        const char* a;
        const char* b;
        bool overlap;
    };
    const Case cases[] = {{"latest", "latest", true}, {"latest", "main", false},  {"*", "latest", true},
                          {"a-b-*", "a-*", true},     {"release-*", "v*", false}, {"*.*", "v*", true},
                          {"web-*", "api-*", false}};
    for (const auto& c : cases) EXPECT_EQ(patterns_overlap(c.a, c.b), c.overlap) << c.a << " vs " << c.b;
}

TEST(Issue11Keys, LoadsCollisionSubmoduleAndRateLimitKeys) {
    const std::string text = R"(server: { webhook_secret: a-long-enough-secret-1, rate_limit: 3 }
git: { submodule_hosts: [gitlab.com], allow_local_submodules: true }
registries:
  hub: { endpoint: docker.io }
repositories:
  - github: acme/web
    registry: hub
    push_repo: acme/web
    allow_tag_collisions: true
    rules: [{ source: main, tag: latest }]
)";
    const auto out = load_named(text, {});
    ASSERT_TRUE(out.config) << out.diagnostics.at(0).str();
    EXPECT_EQ(out.config->server.rate_limit, 3);
    EXPECT_EQ(out.config->submodules.hosts, std::vector<std::string>{"gitlab.com"});
    EXPECT_TRUE(out.config->submodules.allow_local);
    EXPECT_TRUE(out.config->repositories[0].allow_tag_collisions);
    const auto defaults = load_named(R"(server: { webhook_secret: a-long-enough-secret-1 })", {});
    ASSERT_TRUE(defaults.config);
    EXPECT_EQ(defaults.config->server.rate_limit, 10);
    EXPECT_FALSE(defaults.config->submodules.allow_local);
    // The submodule keys belong to the top-level git: block only.
    const auto misplaced = load_named(std::string(text).replace(text.find("    allow_tag_collisions: true\n"), 31,
                                                                "    git: { submodule_hosts: [x] }\n"),
                                      {});
    ASSERT_FALSE(misplaced.config);
    EXPECT_NE(misplaced.diagnostics.at(0).message.find("submodule_hosts"), std::string::npos);
}

}  // namespace
}  // namespace hookyard::config
