// Outbound notification planning and payloads: who gets which event, and Docker Hub's webhook JSON,
// hookyard's events and GitHub commit statuses in the shapes their receivers expect.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/loader.hpp"
#include "webhook/notify/notify_payloads.hpp"
#include "webhook/notify/notify_planner.hpp"

namespace hookyard::notify {
namespace {

using nlohmann::json;

config::Config load(const std::string& extra) {
    const std::string text =
        "server: { webhook_secret: s, public_url: 'https://builds.example.com' }\n"
        "registries: { hub: { endpoint: docker.io } }\n"
        "repositories:\n"
        "  - { github: acme/web, registry: hub, push_repo: acme/web, rules: [{source: main, tag: latest}] }\n"
        "  - { github: acme/api, registry: hub, push_repo: acme/api, rules: [{source: main, tag: latest}] }\n" +
        extra;
    auto out =
        config::load_config_text(text, "t.yaml", [](const std::string&) { return std::optional<std::string>(); });
    EXPECT_TRUE(out.config) << (out.diagnostics.empty() ? "" : out.diagnostics[0].str());
    return *out.config;
}

storage::Build sample_build() {
    storage::Build b;
    b.id = 42;
    b.state = storage::BuildState::succeeded;
    b.repository = "acme/web";
    b.ref = "refs/heads/main";
    b.commit = "0123456789abcdef0123456789abcdef01234567";
    b.image = "docker.io/acme/web";
    b.tags = {"latest", "main"};
    b.digest = "sha256:" + std::string(64, 'a');
    b.pusher = "octocat";
    b.created_at = 1700000000000;
    b.finished_at = 1700000060000;
    return b;
}

std::vector<std::string> summary(const std::vector<storage::NewNotification>& items) {
    std::vector<std::string> out;
    for (const auto& n : items) out.push_back(n.target + " " + n.event);
    return out;
}

TEST(DockerHubPayload, HasTheShapeDockerHubSends) {
    const auto p = dockerhub_payload(sample_build(), "latest", "https://builds.example.com/api/v1/callbacks/42/t");
    EXPECT_EQ(p["callback_url"], "https://builds.example.com/api/v1/callbacks/42/t");
    EXPECT_EQ(p["push_data"]["tag"], "latest");
    EXPECT_EQ(p["push_data"]["pusher"], "octocat");
    EXPECT_EQ(p["push_data"]["pushed_at"], 1700000060);
    EXPECT_EQ(p["push_data"]["images"], json::array({sample_build().digest}));
    EXPECT_EQ(p["repository"]["repo_name"], "acme/web");
    EXPECT_EQ(p["repository"]["namespace"], "acme");
    EXPECT_EQ(p["repository"]["name"], "web");
    EXPECT_EQ(p["repository"]["repo_url"], "https://hub.docker.com/r/acme/web");
    EXPECT_EQ(p["repository"]["status"], "Active");
    EXPECT_EQ(p["repository"]["is_private"], true);
}

TEST(DockerHubPayload, NamesOtherRegistriesByTheirHost) {
    auto b = sample_build();
    b.image = "ghcr.io/acme/team/web";
    const auto p = dockerhub_payload(b, "v1", "");
    EXPECT_EQ(p["repository"]["repo_name"], "acme/team/web");
    EXPECT_EQ(p["repository"]["namespace"], "acme/team");
    EXPECT_EQ(p["repository"]["repo_url"], "https://ghcr.io/acme/team/web");
}

TEST(HookyardPayload, CarriesTheEventAndTheBuild) {
    const auto p = hookyard_payload(sample_build(), "push", "docker.io/acme/web:latest");
    EXPECT_EQ(p["event"], "push");
    EXPECT_EQ(p["image"], "docker.io/acme/web:latest");
    EXPECT_EQ(p["digest"], sample_build().digest);
    EXPECT_EQ(p["build"]["id"], 42);
    EXPECT_EQ(p["build"]["state"], "succeeded");
    EXPECT_EQ(p["build"]["finished_at"], "2023-11-14T22:14:20.000Z");
    EXPECT_TRUE(p["build"]["error"].is_null());
}

TEST(GithubStatusPayload, MapsEventsToStatusStates) {
    auto b = sample_build();
    EXPECT_EQ(github_status_payload(b, "build.queued", "u")["state"], "pending");
    EXPECT_EQ(github_status_payload(b, "build.succeeded", "u")["state"], "success");
    b.error = std::string(300, 'x');
    const auto failed = github_status_payload(b, "build.failed", "https://x/log");
    EXPECT_EQ(failed["state"], "failure");
    EXPECT_LE(failed["description"].get<std::string>().size(), 140u);
    EXPECT_EQ(failed["target_url"], "https://x/log");
    EXPECT_EQ(failed["context"], "hookyard/latest");
    EXPECT_EQ(github_status_payload(b, "build.canceled", "u")["state"], "error");
}

TEST(EventPlanner, RoutesEventsBySubscriberFormatRepositoriesAndEvents) {
    const auto config = load(
        "subscribers:\n"
        "  - { name: hub-style, url: 'https://a/x', format: dockerhub, repositories: [acme/web] }\n"
        "  - { name: ops, url: 'https://b/x', format: hookyard, secret: k, events: [build.failed, build.succeeded] }\n"
        "  - { name: api-only, url: 'https://c/x', format: hookyard, repositories: [acme/api] }\n"
        "  - { name: everything, url: 'https://d/x' }\n");
    const auto planner = make_event_planner(config);
    auto b = sample_build();
    EXPECT_EQ(summary(planner(b, "build.queued")), std::vector<std::string>{"everything build.queued"});
    EXPECT_EQ(summary(planner(b, "build.succeeded")),
              (std::vector<std::string>{"hub-style push", "hub-style push", "ops build.succeeded",
                                        "everything build.succeeded", "everything push", "everything push"}));
    const auto items = planner(b, "build.succeeded");
    EXPECT_EQ(json::parse(items[1].body)["push_data"]["tag"], "main");
    EXPECT_EQ(items[0].url, "https://a/x");
    EXPECT_EQ(json::parse(items[0].body)["callback_url"],
              "https://builds.example.com/api/v1/callbacks/42/" + callback_token("s", 42));
}

TEST(EventPlanner, SendsGithubStatusesOnlyWithATokenAndACommit) {
    auto config = load("github: { token: ghp_x, api_url: 'https://ghe.example.com/api/v3' }\n");
    const auto planner = make_event_planner(config);
    auto b = sample_build();
    const auto items = planner(b, "build.started");
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].target, k_github_target);
    EXPECT_EQ(items[0].url, "https://ghe.example.com/api/v3/repos/acme/web/statuses/" + b.commit);
    EXPECT_EQ(json::parse(items[0].body)["target_url"], "https://builds.example.com/builds/42");
    EXPECT_EQ(items[0].body.find("ghp_x"), std::string::npos) << "the token is added at send time, never stored";
    b.commit.clear();
    EXPECT_TRUE(planner(b, "build.queued").empty());
}

TEST(EventPlanner, BuildErrorWithInvalidUtf8IsPlannedWithReplacementCharacters) {
    auto config = load("github: { token: ghp_x }\nsubscribers: [{ name: everything, url: 'https://d/x' }]\n");
    const auto planner = make_event_planner(config);
    auto b = sample_build();
    b.state = storage::BuildState::failed;
    // A failing RUN line of a pushed Dockerfile printed bytes that are not UTF-8; then an 'é' straddles the
    // 136-byte cut of the GitHub status description ("Build failed: " is 14 bytes, the error up to it 121).
    b.error = "caf\xc3 \xff " + std::string(114, 'x');
    for (int i = 0; i < 10; ++i) b.error += "\xc3\xa9";
    const auto items = planner(b, "build.failed");
    ASSERT_EQ(items.size(), 2u);
    const auto hook = json::parse(items[0].body);
    EXPECT_NE(hook["build"]["error"].get<std::string>().find("caf\xef\xbf\xbd \xef\xbf\xbd"), std::string::npos);
    const std::string description = json::parse(items[1].body)["description"];
    EXPECT_EQ(description.substr(description.size() - 4), "x...") << "cut before the 'é', not inside it";
}

TEST(CallbackToken, IsStablePerBuildAndKey) {
    EXPECT_EQ(callback_token("k", 1), callback_token("k", 1));
    EXPECT_NE(callback_token("k", 1), callback_token("k", 2));
    EXPECT_NE(callback_token("k", 1), callback_token("other", 1));
    EXPECT_EQ(callback_token("k", 1).size(), 32u);
}

}  // namespace
}  // namespace hookyard::notify
