// Every push, ping, create and delete example from @octokit/webhooks-examples (real GitHub payloads,
// installed by scripts/fixtures), signed and posted to a running intake.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/intake/http_client.hpp"
#include "tests/integration/intake/intake_harness.hpp"

using namespace hookyard;

namespace {

const std::string k_package = "/tests/fixtures/npm/node_modules/@octokit/webhooks-examples";

nlohmann::json load_index(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + " is missing: run scripts/fixtures");
    return nlohmann::json::parse(in);
}

nlohmann::json load_examples() { return load_index(test::source_dir() + k_package + "/api.github.com/index.json"); }

// Every flavour the package ships: api.github.com and each GitHub Enterprise Server version (ghes-3x).
std::vector<std::pair<std::string, nlohmann::json>> load_all_flavours() {
    std::vector<std::pair<std::string, nlohmann::json>> out;
    for (const auto& entry : std::filesystem::directory_iterator(test::source_dir() + k_package)) {
        const auto index = entry.path() / "index.json";
        if (entry.is_directory() && std::filesystem::exists(index)) {
            out.emplace_back(entry.path().filename().string(), load_index(index.string()));
        }
    }
    if (out.empty())
        throw std::runtime_error("no examples under " + test::source_dir() + k_package + ": run scripts/fixtures");
    return out;
}

// What the config in intake_harness.hpp must plan for a push example, computed independently of the router.
std::vector<std::string> expected_tags(const nlohmann::json& push) {
    if (push.value("deleted", false)) return {};
    if (push["repository"]["full_name"] != "Codertocat/Hello-World") return {};
    const std::string ref = push["ref"];
    if (ref == "refs/heads/master") return {"latest"};
    if (ref.rfind("refs/tags/", 0) == 0) return {ref.substr(10)};
    return {};
}

}  // namespace

TEST(OctokitExamples, EveryPushPingCreateAndDeleteExampleGetsTheRightAnswer) {
    test::IntakeServer intake;
    int posted = 0, accepted = 0;
    for (const auto& [flavour, events] : load_all_flavours()) {
        for (const auto& ev : events) {
            const std::string name = ev["name"];
            if (name != "push" && name != "ping" && name != "create" && name != "delete") continue;
            int n = 0;
            for (const auto& example : ev["examples"]) {
                const std::string delivery = flavour + "-" + name + "-" + std::to_string(n++);
                const std::string body = example.dump();
                auto reply = test::post_github(intake.port(), test::k_secret, name, delivery, body);
                ++posted;
                SCOPED_TRACE(delivery + " -> " + std::to_string(reply.status) + " " + reply.body);
                // GitHub Enterprise examples come from another host than the default github.url: refused.
                const bool other_host = example.value("repository", nlohmann::json::object())
                                            .value("clone_url", "")
                                            .find("://github.com/") == std::string::npos;
                if (name == "push" && other_host && !example.value("deleted", false) && reply.status == 400) {
                    EXPECT_NE(reply.body.find("github.url"), std::string::npos);
                    continue;
                }
                ASSERT_GE(reply.status, 200);
                ASSERT_LT(reply.status, 300);
                auto answer = nlohmann::json::parse(reply.body);
                const auto tags = name == "push" ? expected_tags(example) : std::vector<std::string>{};
                if (tags.empty()) {
                    EXPECT_EQ(reply.status, 200);
                    EXPECT_FALSE(answer.contains("builds"));
                    continue;
                }
                ++accepted;
                EXPECT_EQ(reply.status, 202);
                ASSERT_EQ(answer["builds"].size(), 1u);
                auto build = intake.store().get_build(answer["builds"][0].get<storage::BuildId>());
                ASSERT_TRUE(build.ok());
                EXPECT_EQ(build->tags, tags);
                EXPECT_EQ(build->commit, example["after"]);
                EXPECT_EQ(build->ref, example["ref"]);
                EXPECT_EQ(build->repository, "Codertocat/Hello-World");
                EXPECT_EQ(build->state, storage::BuildState::queued);
            }
        }
    }
    EXPECT_GE(posted, 20);  // api.github.com alone has 7 push + 4 ping + 5 create + 4 delete in 7.6.1
    EXPECT_GE(accepted, 2);
    // Nothing but the accepted pushes was queued.
    EXPECT_EQ(intake.store().list_builds({})->size(), static_cast<std::size_t>(accepted));
}

TEST(OctokitExamples, FormEncodedPushExampleIsAcceptedLikeJson) {
    const auto events = load_examples();
    test::IntakeServer intake;
    for (const auto& ev : events) {
        if (ev["name"] != "push") continue;
        for (const auto& example : ev["examples"]) {
            if (expected_tags(example).empty()) continue;
            std::string encoded = "payload=";
            for (unsigned char c : example.dump()) {
                if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
                    encoded.push_back(static_cast<char>(c));
                } else {
                    char buf[4];
                    std::snprintf(buf, sizeof buf, "%%%02X", c);
                    encoded += buf;
                }
            }
            auto reply = test::post_github(intake.port(), test::k_secret, "push", "form-1", encoded,
                                           "application/x-www-form-urlencoded");
            ASSERT_EQ(reply.status, 202) << reply.body;
            return;
        }
    }
    FAIL() << "no push example for a configured ref";
}
