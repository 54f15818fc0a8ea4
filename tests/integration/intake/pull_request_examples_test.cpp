// Every pull_request example of @octokit/webhooks-examples, signed and posted to a running intake whose
// repository leaves autotest at its default (off): each is acknowledged, none queues a build, and a closed one
// answers with the (empty) list of builds it canceled. GitHub Enterprise examples of the actions that act come
// from another host than github.url and are refused naming it, as their pushes are.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/intake/http_client.hpp"
#include "tests/integration/intake/intake_harness.hpp"

using namespace hookyard;

TEST(OctokitPullRequests, EveryExampleIsAcknowledgedAndAutotestOffQueuesNothing) {
    test::IntakeServer intake;
    const std::string package = test::source_dir() + "/tests/fixtures/npm/node_modules/@octokit/webhooks-examples";
    int posted = 0, closed = 0;
    for (const auto& dir : std::filesystem::directory_iterator(package)) {
        std::ifstream in(dir.path() / "index.json");
        if (!dir.is_directory() || !in) continue;
        for (const auto& ev : nlohmann::json::parse(in)) {
            if (ev["name"] != "pull_request") continue;
            for (const auto& example : ev["examples"]) {
                const std::string delivery = "pr-" + std::to_string(posted++);
                const auto reply =
                    test::post_github(intake.port(), test::k_secret, "pull_request", delivery, example.dump());
                SCOPED_TRACE(dir.path().filename().string() + " " + example["action"].get<std::string>() + " -> " +
                             std::to_string(reply.status) + " " + reply.body);
                const std::string clone_url = example["repository"]["clone_url"], action = example["action"];
                const bool acts =
                    action == "opened" || action == "synchronize" || action == "reopened" || action == "closed";
                // Actions that build nothing are ignored before the repository's host is looked at.
                if (acts && clone_url.find("://github.com/") == std::string::npos) {
                    EXPECT_EQ(reply.status, 400);
                    EXPECT_NE(reply.body.find("github.url"), std::string::npos);
                    continue;
                }
                ASSERT_EQ(reply.status, 200);
                const auto answer = nlohmann::json::parse(reply.body);
                if (action == "closed") {
                    ++closed;
                    EXPECT_EQ(answer["canceled"], nlohmann::json::array());
                } else {
                    EXPECT_TRUE(answer["ignored"].get<bool>());
                }
                if (action == "opened") {
                    EXPECT_NE(answer["reason"].get<std::string>().find("autotest is off"), std::string::npos);
                }
            }
        }
    }
    EXPECT_GE(posted, 20);
    EXPECT_GE(closed, 2);
    EXPECT_TRUE(intake.store().list_builds({})->empty());
}
