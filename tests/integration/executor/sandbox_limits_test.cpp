// builder.limits with real buildah and runc: a memory hog and a fork bomb each fail their own build with
// the reason while a build running next to them succeeds and the host keeps forking.

#include <thread>

#include "pipeline/executor/build_cgroup.hpp"
#include "tests/integration/executor/sandbox_fixture.hpp"

namespace hookyard::pipeline {
namespace {

using namespace std::chrono_literals;

class LimitsTest : public SandboxTest {
protected:
    void SetUp() override {
        SandboxTest::SetUp();
        if (IsSkipped()) return;
        if (cgroup_v1_mount("memory").empty() || cgroup_v1_mount("pids").empty()) {
            GTEST_SKIP() << "per-build limits need the cgroup v1 memory and pids hierarchies of a hybrid host";
        }
        SandboxOptions sandbox;
        sandbox.limits = {64ULL * 1024 * 1024, 64, 1};
        use_sandbox(sandbox);
        if (!m_options.containment->uses_cgroups()) GTEST_SKIP() << m_options.containment->describe();
    }

    // Runs `bad` and, once its RUN step is going, a plain build next to it; checks the plain one succeeds.
    util::Result<BuildResult> run_next_to_plain_build(const std::string& bad_script, LogLines& log) {
        const std::string token = nonce();
        const auto bad = make_context("bad", run_dockerfile("echo " + token + "; " + bad_script));
        auto job = m_executor->start(request_for(bad, "bad"), log.sink());
        EXPECT_TRUE(test::wait_until([&] { return log.text().find(token + "\n") != std::string::npos; }, 60s))
            << log.text();
        const auto plain = make_context("plain", run_dockerfile("echo BEGIN-ok; echo fine; echo END-ok"));
        LogLines plain_log;
        auto plain_result = build(request_for(plain, "plain"), plain_log);
        EXPECT_TRUE(plain_result.ok()) << plain_result.error().message << plain_log.text();
        EXPECT_EQ(section(plain_log, "ok"), std::vector<std::string>{"fine"});
        // The host can still start processes.
        EXPECT_EQ(test::sh("true"), 0);
        return job->wait();
    }
};

TEST_F(LimitsTest, ForkBombFailsItsOwnBuildNamingThePidsLimit) {
    LogLines log;
    auto result = run_next_to_plain_build("while true; do /bin/busybox sleep 60 & done", log);
    ASSERT_FALSE(result.ok()) << log.text();
    EXPECT_EQ(result.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(result.error().message.find("builder.limits.pids"), std::string::npos) << result.error().message;
    EXPECT_NE(result.error().message.find("64"), std::string::npos) << result.error().message;
}

TEST_F(LimitsTest, MemoryHogFailsItsOwnBuildNamingTheMemoryLimit) {
    LogLines log;
    // dd touches its whole 256 MiB buffer: four times the build's memory.
    auto result =
        run_next_to_plain_build("/bin/busybox sleep 1; /bin/busybox dd if=/dev/zero of=/dev/null bs=256M count=4", log);
    ASSERT_FALSE(result.ok()) << log.text();
    EXPECT_EQ(result.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(result.error().message.find("ran out of memory"), std::string::npos) << result.error().message;
    EXPECT_NE(result.error().message.find("64 MiB (builder.limits.memory)"), std::string::npos)
        << result.error().message;
}

TEST_F(LimitsTest, BuildCgroupsAreGoneAfterTheBuild) {
    const auto ctx = make_context("ctx", run_dockerfile("echo hi"));
    LogLines log;
    ASSERT_TRUE(build(request_for(ctx, "gone"), log).ok()) << log.text();
    // The RUN container was under the build's cgroup in the v1 memory hierarchy, which is gone now.
    const std::string instance = m_options.containment->describe().substr(std::string("cgroup ").size());
    const std::string v1 = cgroup_v1_mount("memory") + cgroup_relative(instance);
    std::error_code ec;
    std::size_t left = 0;
    for (const auto& entry : std::filesystem::directory_iterator(v1, ec)) left += entry.is_directory() ? 1 : 0;
    EXPECT_EQ(left, 0U) << v1;
    EXPECT_NE(log.text().find("--cgroup-parent"), std::string::npos) << log.text();
}

}  // namespace
}  // namespace hookyard::pipeline
