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

// A push build claimed before the trigger build stored its new tags runs with them: the trigger build waits
// for it even though it is newer. A newer trigger build rendering the same tag is not waited for (it waits).
TEST_F(CommitTagsTest, WaitsForARunningBuildPushingTheSameTag) {
    use_rule_tag("{sha:7}");
    const auto as_trigger = [](storage::NewBuild& b) {
        b.tags = {"ccccccc"};
        b.trigger_type = "trigger_url";
    };
    const auto trigger = claimed(as_trigger);
    claimed(as_trigger);  // stays running throughout
    const auto push_build = claimed([](storage::NewBuild& b) { b.tags = {"ccccccc"}; });
    CancelToken token;
    std::vector<std::string> told;
    std::atomic<bool> waiting{false}, returned{false};
    std::thread finisher([&] {
        // The waiter logs once, before its first poll interval.
        while (!waiting) std::this_thread::yield();
        EXPECT_TRUE(m_store->finish_build(push_build.id, BuildState::succeeded, "", "").ok());
        // Waiting on the newer trigger build as well would never end: stop it then, failing the test.
        if (!test::wait_until([&] { return returned.load(); }, std::chrono::seconds(30))) {
            token.cancel(CancelToken::Reason::canceled);
        }
    });
    const auto status = wait_for_tag_pushers(*m_store, trigger, token, [&](std::string_view l) {
        told.emplace_back(l);
        waiting = true;
    });
    returned = true;
    finisher.join();
    EXPECT_TRUE(status.ok()) << status.error().message;
    ASSERT_EQ(told.size(), 1u);
    EXPECT_NE(told[0].find("build " + std::to_string(push_build.id)), std::string::npos) << told[0];
}

}  // namespace
}  // namespace hookyard::pipeline
