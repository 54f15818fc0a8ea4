// Timeout, cancel and Docker Hub hooks with real buildah.

#include <signal.h>

#include <filesystem>

#include "pipeline/executor/containment.hpp"
#include "tests/integration/executor/build_fixture.hpp"
#include "tests/support/proc.hpp"

namespace hookyard::pipeline {
namespace {

using namespace std::chrono_literals;
using test_fixture::ExecutorTest;
using test_fixture::LogLines;
using test_fixture::nonce;

// As `hookyard serve` runs builds: each in a containment cgroup of its own, so ending a build also ends its
// RUN step's container (under OCI isolation runc keeps it outside buildah's process group).
class ContainedBuildTest : public ExecutorTest {
protected:
    void SetUp() override {
        ExecutorTest::SetUp();
        if (IsSkipped()) return;
        m_options.containment = ProcessContainment::make({m_dir / "data", ""});
        m_executor = make_buildah_executor(m_options);
    }
};

// A build whose RUN sleeps until killed; `token` makes the RUN shell's command line unique.
std::string sleeping_dockerfile(const std::string& token) {
    return "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"sh\",\"-c\",\"/bin/busybox sleep 300; "
           "echo " +
           token + "\"]\n";
}

// The process group of the buildah process working for `request` (found by its unique --iidfile), once
// the RUN step (its shell has `token` on its command line) is running; 0 when that does not happen within
// 60 s. Under OCI isolation the RUN step is in its own session inside the container, not in buildah's group.
int running_group(const BuildRequest& request, const std::string& token) {
    int pgid = 0;
    test::wait_until(
        [&] {
            const auto buildah = test::live_processes_matching(request.work_dir + "/iid");
            if (buildah.empty() || test::live_processes_matching(token).empty()) return false;
            pgid = buildah.front().pgid;
            return true;
        },
        60s);
    return pgid;
}

// Killed processes may still be exiting when wait() returns (runc tears a container down after its
// processes die, seconds on a loaded host), hence the poll.
void expect_nothing_left(const BuildRequest& request, int pgid, const std::string& token) {
    EXPECT_TRUE(test::wait_until([&] { return test::live_processes_in_group(pgid).empty(); }, 30s));
    EXPECT_TRUE(test::wait_until([&] { return test::live_processes_matching(token).empty(); }, 30s));
    EXPECT_TRUE(test::wait_until([&] { return test::live_processes_matching(request.work_dir).empty(); }, 30s));
    EXPECT_FALSE(std::filesystem::exists(request.layout_dir));
}

TEST_F(ContainedBuildTest, CancelKillsTheBuildsProcessGroupAndCleansUp) {
    const std::string token = nonce();
    const auto ctx = make_context("ctx", sleeping_dockerfile(token));
    const auto request = request_for(ctx, "cancel");
    LogLines log;
    auto job = m_executor->start(request, log.sink());
    const int pgid = running_group(request, token);
    ASSERT_NE(pgid, 0) << log.text();
    EXPECT_FALSE(job->finished());
    job->cancel();
    auto result = job->wait();
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, util::ErrorKind::canceled) << result.error().message;
    EXPECT_TRUE(job->finished());
    expect_nothing_left(request, pgid, token);
    // Cancel after the end is a no-op and wait() keeps returning the same outcome.
    job->cancel();
    EXPECT_EQ(job->wait().error().kind, util::ErrorKind::canceled);
}

TEST_F(ContainedBuildTest, TimeoutKillsTheBuildsProcessGroup) {
    const std::string token = nonce();
    const auto ctx = make_context("ctx", sleeping_dockerfile(token));
    auto request = request_for(ctx, "timeout");
    request.timeout = 10s;
    LogLines log;
    auto job = m_executor->start(request, log.sink());
    const int pgid = running_group(request, token);
    auto result = job->wait();
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, util::ErrorKind::timeout) << result.error().message;
    EXPECT_NE(result.error().message.find("timeout of 10 s"), std::string::npos) << result.error().message;
    ASSERT_NE(pgid, 0) << "the RUN step never started within the timeout:\n" << log.text();
    expect_nothing_left(request, pgid, token);
}

TEST_F(ContainedBuildTest, DestroyingARunningJobCancelsIt) {
    const std::string token = nonce();
    const auto ctx = make_context("ctx", sleeping_dockerfile(token));
    const auto request = request_for(ctx, "destroy");
    auto job = m_executor->start(request, {});
    const int pgid = running_group(request, token);
    ASSERT_NE(pgid, 0);
    job.reset();
    expect_nothing_left(request, pgid, token);
}

// Each hook appends its name, working directory and two variables to the file named by HOOK_LOG.
void write_hooks(const std::string& ctx, const std::vector<std::string>& names) {
    for (const auto& name : names) {
        test::write_file(ctx + "/hooks/" + name,
                         "#!/bin/sh\necho \"" + name + " $(pwd) $SOURCE_BRANCH $IMAGE_NAME\" >> \"$HOOK_LOG\"\n", true);
    }
}

TEST_F(ExecutorTest, HooksRunInDockerHubOrderInTheDockerfilesDirectoryWithTheVariables) {
    const auto ctx = make_context("ctx", "FROM scratch\nCOPY busybox /bin/busybox\n");
    write_hooks(ctx, {"post_checkout", "pre_build", "post_build", "pre_push", "post_push"});
    // Executable but without a #! line (exec would fail with ENOEXEC): run with /bin/sh, like a shell would.
    test::write_file(ctx + "/hooks/post_build",
                     "echo \"post_build $(pwd) $SOURCE_BRANCH $IMAGE_NAME\" >> \"$HOOK_LOG\"\n");
    auto request = request_for(ctx, "hooks");
    request.hooks = true;
    request.build_args = {{"HOOK_LOG", m_dir / "hooks.log"}};
    request.docker_hub.source_branch = "main";
    request.docker_hub.docker_repo = "localhost/acme/web";
    request.docker_hub.docker_tag = "v1";
    LogLines log;
    auto result = build(request, log);
    ASSERT_TRUE(result.ok()) << result.error().message << log.text();
    EXPECT_FALSE(result->built_by_hook);
    // pre_push/post_push belong to the push stage, which calls run_hook around its push.
    EXPECT_TRUE(m_executor->run_hook(Hook::pre_push, request, log.sink()).ok());
    EXPECT_TRUE(m_executor->run_hook(Hook::post_push, request, log.sink()).ok());
    const std::string suffix = " " + ctx + " main localhost/acme/web:v1\n";
    EXPECT_EQ(test::read_file(m_dir / "hooks.log"), "post_checkout" + suffix + "pre_build" + suffix + "post_build" +
                                                        suffix + "pre_push" + suffix + "post_push" + suffix);
}

TEST_F(ExecutorTest, FailingHookFailsTheBuildNamingIt) {
    const auto ctx = make_context("ctx", "FROM scratch\nCOPY busybox /bin/busybox\n");
    write_hooks(ctx, {"post_checkout", "post_build"});
    test::write_file(ctx + "/hooks/pre_build", "#!/bin/sh\necho pre_build-broke\nexit 7\n", true);
    auto request = request_for(ctx, "hookfail");
    request.hooks = true;
    request.build_args = {{"HOOK_LOG", m_dir / "hooks.log"}};
    LogLines log;
    auto result = build(request, log);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(result.error().message.find("hooks/pre_build failed with exit code 7"), std::string::npos)
        << result.error().message;
    EXPECT_NE(log.text().find("pre_build-broke"), std::string::npos);
    EXPECT_EQ(test::read_file(m_dir / "hooks.log").find("post_build"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(request.layout_dir));

    test::write_file(ctx + "/hooks/post_push", "#!/bin/sh\nexit 9\n", true);
    const auto status = m_executor->run_hook(Hook::post_push, request, {});
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message.find("hooks/post_push failed with exit code 9"), std::string::npos);
}

TEST_F(ExecutorTest, BuildHookReplacesTheBuildAndItsImageIsExported) {
    const std::string token = nonce();
    const auto ctx = make_context("ctx",
                                  "FROM scratch\nCOPY busybox /bin/busybox\nARG MARK\n"
                                  "RUN [\"/bin/busybox\",\"sh\",\"-c\",\"echo $MARK > /mark\"]\n");
    test::write_file(
        ctx + "/hooks/build",
        "#!/bin/sh\nset -e\necho custom-build\n"
        "buildah --root \"$HOOKYARD_BUILDAH_ROOT\" --runroot \"$HOOKYARD_BUILDAH_RUNROOT\" bud --isolation chroot "
        "--build-arg MARK=hooked-" +
            token + " -f \"$DOCKERFILE_PATH\" -t \"$IMAGE_NAME\" .\n",
        true);
    auto request = request_for(ctx, "hookbuild");
    request.hooks = true;
    request.cache = false;  // so the hook's image is removed afterwards, which this test checks
    request.docker_hub.docker_repo = "localhost/hookyard-test-" + token;
    request.docker_hub.docker_tag = "t";
    LogLines log;
    auto result = build(request, log);
    ASSERT_TRUE(result.ok()) << result.error().message << log.text();
    EXPECT_TRUE(result->built_by_hook);
    EXPECT_NE(log.text().find("custom-build"), std::string::npos);
    EXPECT_EQ(file_in_layout(result->layout_dir, "mark"), "hooked-" + token + "\n");
    EXPECT_FALSE(has_image("localhost/hookyard-test-" + token + ":t"));
}

TEST_F(ExecutorTest, BuildHookThatProducesNoImageIsReported) {
    const auto ctx = make_context("ctx", "FROM scratch\n");
    test::write_file(ctx + "/hooks/build", "#!/bin/sh\necho forgot to build\n", true);
    auto request = request_for(ctx, "hooknoimage");
    request.hooks = true;
    request.docker_hub.docker_repo = "localhost/hookyard-test-" + nonce();
    request.docker_hub.docker_tag = "t";
    auto result = build(request, *std::make_unique<LogLines>());
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(result.error().message.find("hooks/build finished but buildah has no image"), std::string::npos)
        << result.error().message;
}

}  // namespace
}  // namespace hookyard::pipeline
