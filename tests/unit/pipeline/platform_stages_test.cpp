// Multi-platform builds in the stage runner, every seam faked: one stage per platform inside one run,
// built at once up to builder.platform_parallelism, one push of an index; cancel stops every platform;
// a rule with a single platform stays a plain build.

#include <gtest/gtest.h>

#include <thread>

#include "storage/build_json.hpp"
#include "tests/unit/pipeline/stage_runner_fixture.hpp"

namespace hookyard::pipeline {
namespace {

using namespace std::chrono_literals;
using storage::BuildState;
using Stages = std::vector<std::pair<std::string, BuildState>>;

class PlatformStages : public test_fixture::StageRunnerTest {
protected:
    PlatformStages() {
        m_config.repositories[0].rules[0].platforms = {"linux/amd64", "linux/arm64"};
        // Every foreign platform of these tests can run: their handlers are "registered" here.
        test::write_file(m_dir / "binfmt/qemu-aarch64", "enabled\n");
        test::write_file(m_dir / "binfmt/qemu-x86_64", "enabled\n");
    }

    // The build's stages, the platforms' (which start in either order) sorted among themselves.
    Stages sorted_stages(storage::BuildId id) {
        Stages out = stages_of(id);
        const auto is_platform = [](const auto& s) { return s.first.rfind("build ", 0) == 0; };
        const auto first = std::find_if(out.begin(), out.end(), is_platform);
        std::sort(first, std::find_if_not(first, out.end(), is_platform));
        return out;
    }

    // Runs a build whose platforms block until canceled, and cancels it once `started` of them run (or, with
    // one_job_for_platforms(), once `started` jobs for all platforms run).
    RunOutcome cancel_once_started(const storage::Build& build, int started) {
        m_executor.block_until_canceled();
        CancelToken token;
        std::thread canceler([&] {
            EXPECT_TRUE(test::wait_until(
                [&] { return m_executor.builds_started() == started || m_executor.platform_jobs_started() == started; },
                10s));
            token.cancel(CancelToken::Reason::canceled);
        });
        const auto out = run(build, token);
        canceler.join();
        return out;
    }
};

TEST_F(PlatformStages, EachPlatformIsAStageAndThePushIsOneIndexRecordingEveryPlatform) {
    const auto build = claimed();
    const auto out = run(build);
    ASSERT_EQ(out.state, BuildState::succeeded) << out.error;
    EXPECT_EQ(out.digest, m_pusher.digest);
    EXPECT_EQ(sorted_stages(build.id), (Stages{{"checkout", BuildState::succeeded},
                                               {"locate", BuildState::succeeded},
                                               {"build linux/amd64", BuildState::succeeded},
                                               {"build linux/arm64", BuildState::succeeded},
                                               {"push", BuildState::succeeded}}));
    ASSERT_EQ(m_pusher.requests().size(), 2u) << "one index per tag";
    const auto& platforms = m_pusher.requests()[0].platforms;
    ASSERT_EQ(platforms.size(), 2u);
    EXPECT_EQ(platforms[1].platform, "linux/arm64");
    EXPECT_NE(platforms[0].layout_dir, platforms[1].layout_dir) << "each platform has its own layout";
    const auto json = storage::build_to_json(*m_store->get_build(build.id));
    ASSERT_EQ(json["platforms"].size(), 2u) << json.dump();
    EXPECT_EQ(json["platforms"][0]["platform"], "linux/amd64");
    EXPECT_EQ(json["platforms"][0]["digest"], "sha256:" + std::string(63, 'p') + "0");
}

TEST_F(PlatformStages, CancelStopsEveryPlatformBuildingAtOnceAndPushesNothing) {
    for (const bool one_job : {false, true}) {
        SCOPED_TRACE(one_job ? "one job for every platform" : "one job per platform");
        if (one_job) m_executor.one_job_for_platforms();
        const auto build = claimed();
        // Both platforms run at once inside the one run (platform_parallelism 2), or in the one job.
        const auto out = cancel_once_started(build, one_job ? 1 : 2);
        EXPECT_EQ(out.state, BuildState::canceled);
        EXPECT_EQ(sorted_stages(build.id), (Stages{{"checkout", BuildState::succeeded},
                                                   {"locate", BuildState::succeeded},
                                                   {"build linux/amd64", BuildState::canceled},
                                                   {"build linux/arm64", BuildState::canceled}}));
        EXPECT_TRUE(m_pusher.requests().empty());
    }
}

TEST_F(PlatformStages, ParallelismOneStartsNoSecondPlatformAfterACancel) {
    m_config.builder.platform_parallelism = 1;
    const auto out = cancel_once_started(claimed(), 1);
    EXPECT_EQ(out.state, BuildState::canceled);
    EXPECT_EQ(m_executor.builds_started(), 1) << "one platform at a time, and none after the cancel";
}

TEST_F(PlatformStages, OnePlatformIsAPlainBuildAndPush) {
    m_config.repositories[0].rules[0].platforms = {"linux/arm64"};
    const auto build = claimed();
    CancelToken token;
    const auto out = run(build, token);
    ASSERT_EQ(out.state, BuildState::succeeded) << out.error;
    EXPECT_EQ(sorted_stages(build.id)[2], std::make_pair(std::string("build"), BuildState::succeeded));
    ASSERT_EQ(m_pusher.requests().size(), 2u);
    EXPECT_TRUE(m_pusher.requests()[0].platforms.empty()) << "a plain manifest, not an index";
    EXPECT_TRUE(storage::build_to_json(*m_store->get_build(build.id))["platforms"].is_null());
}

TEST_F(PlatformStages, APlatformThisHostCannotRunFailsBeforeAnyBuild) {
    std::filesystem::remove(m_dir / "binfmt/qemu-aarch64");
    std::filesystem::remove(m_dir / "binfmt/qemu-x86_64");
    m_config.repositories[0].rules[0].platforms = {
        config::host_platform().text(), config::host_platform().arch == "arm64" ? "linux/amd64" : "linux/arm64"};
    const auto build = claimed();
    CancelToken token;
    const auto out = run(build, token);
    EXPECT_EQ(out.state, BuildState::failed);
    EXPECT_NE(out.error.find("qemu-user-static"), std::string::npos) << out.error;
    EXPECT_EQ(m_executor.builds_started(), 0);
}

TEST_F(PlatformStages, OneJobForEveryPlatformStillRecordsAStagePerPlatformAndPushesAnIndex) {
    m_executor.one_job_for_platforms();
    const auto build = claimed();
    const auto out = run(build);
    ASSERT_EQ(out.state, BuildState::succeeded) << out.error;
    EXPECT_EQ(m_executor.platform_jobs_started(), 1);
    EXPECT_EQ(m_executor.builds_started(), 0) << "no build job per platform";
    EXPECT_EQ(sorted_stages(build.id), (Stages{{"checkout", BuildState::succeeded},
                                               {"locate", BuildState::succeeded},
                                               {"build linux/amd64", BuildState::succeeded},
                                               {"build linux/arm64", BuildState::succeeded},
                                               {"push", BuildState::succeeded}}));
    ASSERT_EQ(m_pusher.requests().size(), 2u);
    EXPECT_EQ(m_pusher.requests()[0].platforms.size(), 2u);
}

TEST_F(PlatformStages, OneJobWithAFailingPlatformFailsItsStageNamingItAndPushesNothing) {
    m_executor.one_job_for_platforms("linux/arm64");
    m_executor.fail_with(util::make_error(util::ErrorKind::invalid_input, "Dockerfile:3: RUN failed"));
    const auto build = claimed();
    const auto out = run(build);
    EXPECT_EQ(out.state, BuildState::failed);
    EXPECT_EQ(out.error, "build linux/arm64: Dockerfile:3: RUN failed");
    EXPECT_EQ(sorted_stages(build.id), (Stages{{"checkout", BuildState::succeeded},
                                               {"locate", BuildState::succeeded},
                                               {"build linux/amd64", BuildState::succeeded},
                                               {"build linux/arm64", BuildState::failed}}));
    EXPECT_TRUE(m_pusher.requests().empty());
}

}  // namespace
}  // namespace hookyard::pipeline
