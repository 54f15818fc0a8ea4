// Tags rendered once the commit is known: a trigger build (queued without a commit) renders {sha} after
// checkout and pushes those tags; a template that renders nothing fails the build at checkout with the reason.

#include "pipeline/commit_tags.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/unit/pipeline/stage_runner_fixture.hpp"

namespace hookyard::pipeline {
namespace {

using storage::BuildState;
using test_fixture::StageRunnerTest;

class CommitTagsTest : public StageRunnerTest {
protected:
    void use_rule_tag(const std::string& tag) {
        auto& rule = m_config.repositories[0].rules[0];
        rule.source = "main";
        rule.tag = tag;
        m_config.repositories[0].push_repo = "docker.io/acme/web";
    }
};

TEST_F(CommitTagsTest, ATriggerBuildRendersShaAfterCheckoutAndPushesIt) {
    use_rule_tag("{sha:7},latest");
    const auto build = claimed([](storage::NewBuild& b) { b.tags = {"latest"}; });
    const auto out = run(build);
    ASSERT_EQ(out.state, BuildState::succeeded) << out.error;
    EXPECT_EQ(m_store->get_build(build.id)->tags, (std::vector<std::string>{"ccccccc", "latest"}));
    ASSERT_EQ(m_pusher.requests().size(), 2u);
    EXPECT_EQ(m_pusher.requests()[0].images, std::vector<std::string>{"docker.io/acme/web:ccccccc"});
}

TEST_F(CommitTagsTest, ATemplateRenderingNothingFailsTheBuildWithTheReason) {
    use_rule_tag("{tag}");
    const auto build = claimed([](storage::NewBuild& b) {
        b.commit = std::string(40, 'c');
        b.tags.clear();
    });
    const auto out = run(build);
    EXPECT_EQ(out.state, BuildState::failed);
    EXPECT_NE(out.error.find("{tag} is empty on branch pushes"), std::string::npos) << out.error;
    EXPECT_TRUE(m_pusher.requests().empty());
}

TEST_F(CommitTagsTest, WaitsForAnOlderRunningBuildPushingTheSameTag) {
    use_rule_tag("{sha:7}");
    const auto older = claimed([](storage::NewBuild& b) { b.tags = {"ccccccc"}; });
    auto newer = claimed([](storage::NewBuild& b) { b.tags = {"ccccccc"}; });
    CancelToken token;
    std::vector<std::string> told;
    std::atomic<bool> waiting{false};
    std::thread finisher([&] {
        // The waiter logs once, before its first poll interval.
        while (!waiting) std::this_thread::yield();
        EXPECT_TRUE(m_store->finish_build(older.id, BuildState::succeeded, "", "").ok());
    });
    EXPECT_TRUE(wait_for_tag_pushers(*m_store, newer, token, [&](std::string_view l) {
                    told.emplace_back(l);
                    waiting = true;
                }).ok());
    finisher.join();
    ASSERT_EQ(told.size(), 1u);
    EXPECT_NE(told[0].find("build " + std::to_string(older.id)), std::string::npos);
}

}  // namespace
}  // namespace hookyard::pipeline
