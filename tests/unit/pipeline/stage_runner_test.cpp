// The stage runner with every seam faked (in-memory store, fake checkout, executor and pusher): the
// stages run in order and are recorded, the first failing stage stops the later ones and names the
// cause, cancel stops a build mid-stage, and the work dir goes away (or is kept on failure when asked).

#include "pipeline/stage_runner.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "tests/unit/pipeline/stage_runner_fixture.hpp"

namespace hookyard::pipeline {
namespace {

using namespace std::chrono_literals;
using storage::BuildState;

using test_fixture::StageRunnerTest;

TEST_F(StageRunnerTest, RunsTheStagesInOrderAndReturnsTheDigest) {
    const auto build = claimed();
    const auto out = run(build);
    EXPECT_EQ(out.state, BuildState::succeeded) << out.error;
    EXPECT_EQ(out.digest, m_pusher.digest);
    EXPECT_EQ(stages_of(build.id), (std::vector<std::pair<std::string, BuildState>>{{"checkout", BuildState::succeeded},
                                                                                    {"locate", BuildState::succeeded},
                                                                                    {"build", BuildState::succeeded},
                                                                                    {"push", BuildState::succeeded}}));
    ASSERT_EQ(m_pusher.requests().size(), 2u) << "one image at a time, each recorded once pushed";
    EXPECT_EQ(m_pusher.requests()[0].images, (std::vector<std::string>{"docker.io/acme/web:latest"}));
    EXPECT_EQ(m_pusher.requests()[1].images, (std::vector<std::string>{"docker.io/acme/web:main"}));
    EXPECT_EQ(m_executor.hooks_run(), (std::vector<Hook>{Hook::pre_push, Hook::post_push}));
    EXPECT_EQ(m_store->get_build(build.id)->commit, std::string(40, 'c')) << "the resolved commit is recorded";
    EXPECT_FALSE(std::filesystem::exists(m_dir / ("work/" + std::to_string(build.id) + "-0")));
    const auto log = m_store->read_log(build.id, 0, 1 << 20);
    EXPECT_NE(log->data.find("hookyard: pushed docker.io/acme/web:latest@sha256:"), std::string::npos);
}

TEST_F(StageRunnerTest, AFailingStageStopsTheLaterOnesWithItsCause) {
    const auto build = claimed();
    m_executor.fail_with(util::make_error(util::ErrorKind::invalid_input, "RUN false: exit 1"));
    CancelToken token;
    const auto out = run(build, token);
    EXPECT_EQ(out.state, BuildState::failed);
    EXPECT_EQ(out.error, "build: RUN false: exit 1");
    EXPECT_EQ(stages_of(build.id), (std::vector<std::pair<std::string, BuildState>>{{"checkout", BuildState::succeeded},
                                                                                    {"locate", BuildState::succeeded},
                                                                                    {"build", BuildState::failed}}));
    EXPECT_TRUE(m_pusher.requests().empty());
}

TEST_F(StageRunnerTest, ACheckoutFailureStopsBeforeLocate) {
    const auto build = claimed();
    m_checkout.fail_with(util::make_error(util::ErrorKind::auth, "credentials refused"));
    CancelToken token;
    const auto out = run(build, token);
    EXPECT_EQ(out.error, "checkout: credentials refused");
    EXPECT_EQ(stages_of(build.id).size(), 1u);
    EXPECT_EQ(m_executor.builds_started(), 0);
}

TEST_F(StageRunnerTest, AMissingDockerfileFailsLocate) {
    test::FakeCheckout empty(test::FakeCheckout::Files{{"README", "no Dockerfile here"}});
    const auto build = claimed();
    StageRunner runner(m_config, *m_store, empty, m_executor, m_pusher);
    CancelToken token;
    const auto out = runner.run(build, token);
    EXPECT_EQ(out.state, BuildState::failed);
    EXPECT_EQ(out.error.rfind("locate: ", 0), 0u) << out.error;
    EXPECT_EQ(m_executor.builds_started(), 0);
}

TEST_F(StageRunnerTest, CancelDuringTheBuildStopsItAndSkipsThePush) {
    const auto build = claimed();
    m_executor.block_until_canceled();
    CancelToken token;
    std::thread canceler([&] {
        test::wait_until([&] { return m_executor.builds_started() > 0; }, 10s);
        token.cancel(CancelToken::Reason::canceled);
    });
    const auto out = run(build, token);
    canceler.join();
    EXPECT_EQ(out.state, BuildState::canceled);
    EXPECT_FALSE(out.interrupted);
    EXPECT_EQ(stages_of(build.id).back(), std::make_pair(std::string("build"), BuildState::canceled));
    EXPECT_TRUE(m_pusher.requests().empty());
}

TEST_F(StageRunnerTest, ShutdownDuringThePushInterruptsTheBuild) {
    const auto build = claimed();
    m_pusher.block_until_canceled();
    CancelToken token;
    std::thread canceler([&] {
        test::wait_until([&] { return !m_pusher.requests().empty(); }, 10s);
        token.cancel(CancelToken::Reason::shutdown);
    });
    const auto out = run(build, token);
    canceler.join();
    EXPECT_EQ(out.state, BuildState::canceled);
    EXPECT_TRUE(out.interrupted) << "left running for crash recovery";
    EXPECT_EQ(out.error, "push: push canceled");
}

TEST_F(StageRunnerTest, ABuildCanceledBeforeItStartsRunsNoStage) {
    const auto build = claimed();
    CancelToken token;
    token.cancel(CancelToken::Reason::canceled);
    const auto out = run(build, token);
    EXPECT_EQ(out.state, BuildState::canceled);
    EXPECT_EQ(out.error, "canceled");
    EXPECT_TRUE(stages_of(build.id).empty());
}

TEST_F(StageRunnerTest, ARepositoryGoneFromTheConfigFailsWithThatReason) {
    const auto build = claimed();
    m_config.repositories.clear();
    CancelToken token;
    const auto out = run(build, token);
    EXPECT_EQ(out.state, BuildState::failed);
    EXPECT_NE(out.error.find("no longer in the config"), std::string::npos);
    EXPECT_TRUE(m_checkout.requests().empty());
}

TEST_F(StageRunnerTest, AFailedBuildsWorkDirIsKeptWhenAsked) {
    m_config.builder.keep_failed_workdirs = true;
    const auto build = claimed();
    m_pusher.fail_with(util::make_error(util::ErrorKind::auth, "push refused"));
    CancelToken token;
    const auto out = run(build, token);
    EXPECT_EQ(out.error, "push: push refused");
    const auto kept = m_dir / ("kept/" + std::to_string(build.id));
    EXPECT_TRUE(std::filesystem::exists(kept + "/src/Dockerfile"));
    EXPECT_FALSE(std::filesystem::exists(m_dir / ("work/" + std::to_string(build.id))));
}

}  // namespace
}  // namespace hookyard::pipeline

namespace hookyard::pipeline {
namespace {

TEST_F(StageRunnerTest, EachImageIsRecordedOnceItIsPushed) {
    const auto build = claimed();
    CancelToken token;
    ASSERT_EQ(run(build, token).state, BuildState::succeeded);
    EXPECT_EQ(m_store->get_build(build.id)->pushed,
              (std::map<std::string, std::string>{{"docker.io/acme/web:latest", m_pusher.digest},
                                                  {"docker.io/acme/web:main", m_pusher.digest}}));
}

TEST_F(StageRunnerTest, AResumedBuildWhoseImagesWereAllPushedFinishesWithoutBuilding) {
    const auto first = claimed();
    const std::string digest = "sha256:" + std::string(64, 'e');
    for (const std::string tag : {"latest", "main"}) {
        ASSERT_TRUE(m_store->record_pushed(first.id, "docker.io/acme/web:" + tag, digest).ok());
    }
    const auto resumed = crash_and_reclaim(first.id);
    CancelToken token;
    const auto out = run(resumed, token);
    EXPECT_EQ(out.state, BuildState::succeeded) << out.error;
    EXPECT_EQ(out.digest, digest);
    EXPECT_TRUE(m_checkout.requests().empty());
    EXPECT_EQ(m_executor.builds_started(), 0);
    EXPECT_TRUE(m_pusher.requests().empty());
}

TEST_F(StageRunnerTest, APartlyPushedBuildIsBuiltAgainAndPushedUnderEveryTag) {
    const auto first = claimed();
    ASSERT_TRUE(m_store->record_pushed(first.id, "docker.io/acme/web:latest", "sha256:" + std::string(64, 'e')).ok());
    const auto resumed = crash_and_reclaim(first.id);
    CancelToken token;
    const auto out = run(resumed, token);
    EXPECT_EQ(out.digest, m_pusher.digest);
    EXPECT_EQ(m_executor.builds_started(), 1);
    EXPECT_EQ(m_pusher.requests().size(), 2u);
    EXPECT_EQ(m_store->get_build(first.id)->pushed.at("docker.io/acme/web:latest"), m_pusher.digest);
}

TEST_F(StageRunnerTest, AResumedBuildWorksInAFreshAttemptDirAndRemovesTheCrashedOne) {
    const auto first = claimed();
    const std::string crashed = m_dir / ("work/" + std::to_string(first.id) + "-0");
    std::filesystem::create_directories(crashed + "/layout");
    test::write_file(crashed + "/layout/index.json", "{}");  // what the crashed attempt's buildah wrote
    const auto resumed = crash_and_reclaim(first.id);
    CancelToken token;
    EXPECT_EQ(run(resumed, token).state, BuildState::succeeded);
    ASSERT_EQ(m_checkout.requests().size(), 1u);
    EXPECT_EQ(m_checkout.requests()[0].dest_dir, m_dir / ("work/" + std::to_string(first.id) + "-1/src"));
    EXPECT_FALSE(std::filesystem::exists(crashed));
}

// A replayed push (a new delivery id, an old commit) must not put older code over the newer image.
// main's tags point at m_newer, built and pushed; m_older is its ancestor.
class ReplayTest : public StageRunnerTest {
protected:
    void SetUp() override {
        const auto first = claimed([&](storage::NewBuild& b) { b.commit = m_newer; });
        ASSERT_EQ(run(first, m_token).state, BuildState::succeeded);
        ASSERT_TRUE(m_store->finish_build(first.id, BuildState::succeeded, "sha256:new", "").ok());
        m_checkout.add_ancestry(m_older, m_newer);
    }
    const std::string m_newer = std::string(40, '2'), m_older = std::string(40, '1');
    CancelToken m_token;
};

TEST_F(ReplayTest, AReplayOfAnAncestorOfTheLastSuccessEndsSupersededWithoutBuilding) {
    const auto replay = claimed([&](storage::NewBuild& b) { b.commit = m_older; });
    const auto out = run(replay, m_token);
    EXPECT_EQ(out.state, BuildState::superseded) << out.error;
    EXPECT_NE(out.error.find("commit " + m_older + " is an ancestor of " + m_newer), std::string::npos) << out.error;
    EXPECT_NE(out.error.find("force-push"), std::string::npos) << "names the way to roll back on purpose";
    EXPECT_EQ(stages_of(replay.id),
              (std::vector<std::pair<std::string, BuildState>>{{"checkout", BuildState::succeeded}}));
    EXPECT_EQ(m_pusher.requests().size(), 2u) << "only the first build pushed";
    EXPECT_TRUE(m_store->finish_build(replay.id, out.state, "", out.error).ok()) << "running → superseded";
    EXPECT_EQ(m_store->get_build(replay.id)->state, BuildState::superseded);
}

TEST_F(ReplayTest, ForcedPushesTriggersAndNewerCommitsAreNotSuperseded) {
    const auto rollback = claimed([&](storage::NewBuild& b) {
        b.commit = m_older;
        b.forced = true;
    });
    EXPECT_EQ(run(rollback, m_token).state, BuildState::succeeded) << "forced: true is a deliberate rollback";
    const auto trigger = claimed();  // no pinned commit: the branch head
    EXPECT_EQ(run(trigger, m_token).state, BuildState::succeeded);
    const auto descendant = claimed([&](storage::NewBuild& b) { b.commit = std::string(40, '3'); });
    EXPECT_EQ(run(descendant, m_token).state, BuildState::succeeded);
}

// `lat@est` sanitises to `latest`, which main's build pushed: the build fails instead of overwriting it.
TEST_F(StageRunnerTest, ASanitisedTagAnotherRefOwnsFailsTheBuildNamingBothRefs) {
    const auto main_build = claimed();
    CancelToken token;
    ASSERT_EQ(run(main_build, token).state, BuildState::succeeded);
    auto odd = [](storage::NewBuild& b) {
        b.ref = "refs/heads/lat@est";
        b.tags = {"latest"};
        b.sanitized_tags = {"latest"};
    };
    const auto collide = claimed(odd);
    const auto out = run(collide, token);
    EXPECT_EQ(out.state, BuildState::failed);
    EXPECT_NE(out.error.find("belongs to refs/heads/main"), std::string::npos) << out.error;
    EXPECT_NE(out.error.find("refs/heads/lat@est"), std::string::npos) << out.error;
    EXPECT_NE(out.error.find("allow_tag_collisions: true"), std::string::npos) << out.error;
    EXPECT_EQ(m_pusher.requests().size(), 2u) << "nothing pushed for the colliding build";

    // A tag that needed no sanitising moves as the rules say; allow_tag_collisions turns the check off.
    const auto plain = claimed([](storage::NewBuild& b) {
        b.ref = "refs/heads/release";
        b.tags = {"latest"};
    });
    EXPECT_EQ(run(plain, token).state, BuildState::succeeded);
    m_config.repositories[0].allow_tag_collisions = true;
    EXPECT_EQ(run(claimed(odd), token).state, BuildState::succeeded);
}

}  // namespace
}  // namespace hookyard::pipeline
