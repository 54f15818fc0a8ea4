// The build sandbox with real buildah and runc: each test runs the escape a Dockerfile would try and
// expects it to fail (see pipeline/executor/sandbox.hpp).

#include <filesystem>
#include <thread>

#include "tests/integration/executor/sandbox_fixture.hpp"
#include "tests/support/proc.hpp"

namespace hookyard::pipeline {
namespace {

using namespace std::chrono_literals;

// Build B sleeps with a secret build arg while build A lists processes and reads every /proc/*/cmdline.
TEST_F(SandboxTest, RunStepSeesOnlyItsOwnProcessesWhileAnotherBuildHoldsASecret) {
    use_sandbox({});
    const std::string token = nonce();
    const std::string secret = "s3cret-" + nonce();
    const auto sleeper =
        make_context("sleeper", run_dockerfile("/bin/busybox sleep 120; echo " + token + " $SECRET", "ARG SECRET\n"));
    auto sleeping = request_for(sleeper, "sleeper");
    sleeping.build_args = {{"SECRET", secret}};
    LogLines sleeper_log;
    auto job = m_executor->start(sleeping, sleeper_log.sink());
    ASSERT_TRUE(test::wait_until([&] { return !test::live_processes_matching(token).empty(); }, 60s))
        << sleeper_log.text();
    // On the host too, no process has the secret on its command line (buildah gets it by environment).
    EXPECT_TRUE(test::live_processes_matching(secret).empty());

    const auto looker = make_context(
        "looker", run_dockerfile("echo BEGIN-ps; /bin/busybox ps -o pid,args; echo END-ps; echo BEGIN-cmdline; "
                                 "for f in /proc/[0-9]*/cmdline; do /bin/busybox tr '\\\\0' ' ' < $f; echo; done; "
                                 "echo END-cmdline; echo BEGIN-host; /bin/busybox hostname; echo END-host"));
    LogLines log;
    auto result = build(request_for(looker, "looker"), log);
    ASSERT_TRUE(result.ok()) << result.error().message << log.text();
    const auto ps = section(log, "ps");
    // The header, the RUN shell and ps itself: nothing of the host, of buildah or of build B.
    EXPECT_LE(ps.size(), 3U) << log.text();
    EXPECT_GE(ps.size(), 2U) << log.text();
    EXPECT_FALSE(section(log, "cmdline").empty()) << log.text();
    EXPECT_EQ(log.text().find(token), std::string::npos) << log.text();
    EXPECT_EQ(log.text().find(secret), std::string::npos);
    for (const auto& line : section(log, "cmdline")) {
        EXPECT_EQ(line.find("buildah"), std::string::npos) << line;
        EXPECT_EQ(line.find("iidfile"), std::string::npos) << line;
    }
    // Its own UTS namespace: not the host's name.
    std::string host;
    test::sh("hostname", &host);
    ASSERT_EQ(section(log, "host").size(), 1U) << log.text();
    EXPECT_NE(section(log, "host").front() + "\n", host);
    job->cancel();
    EXPECT_EQ(job->wait().error().kind, util::ErrorKind::canceled);
}

TEST_F(SandboxTest, BuildArgValuesReachTheRunStepButNoCommandLine) {
    use_sandbox({});
    const std::string value = "v-" + nonce();
    const auto ctx = make_context("args", run_dockerfile("echo BEGIN-arg; echo $TOKEN; echo END-arg", "ARG TOKEN\n"));
    auto request = request_for(ctx, "args");
    request.build_args = {{"TOKEN", value}};
    LogLines log;
    auto result = build(request, log);
    ASSERT_TRUE(result.ok()) << result.error().message << log.text();
    EXPECT_EQ(section(log, "arg"), std::vector<std::string>{value});
    EXPECT_NE(log.text().find("--build-arg TOKEN"), std::string::npos) << log.text();
    EXPECT_EQ(log.text().find("TOKEN=" + value), std::string::npos);
}

// builder.network none: only a loopback (buildah 1.28 attached its default CNI network, reaching the host's
// addresses, when --pid private followed --network none).
TEST_F(SandboxTest, NetworkNoneLeavesTheRunStepOnlyLoopback) {
    use_sandbox({});
    const auto ctx = make_context(
        "nonet", run_dockerfile("echo BEGIN-if; /bin/busybox tail -n +3 /proc/net/dev | /bin/busybox cut -d: -f1 | "
                                "/bin/busybox tr -d ' '; echo END-if"));
    auto request = request_for(ctx, "nonet");
    request.cache = false;
    LogLines log;
    auto result = build(request, log);
    ASSERT_TRUE(result.ok()) << result.error().message << log.text();
    EXPECT_EQ(section(log, "if"), std::vector<std::string>{"lo"}) << log.text();
}

TEST_F(SandboxTest, CacheMountsAreScopedPerRepository) {
    SandboxOptions sandbox;
    sandbox.cache_mount_root = m_dir / "cache-mounts";
    use_sandbox(sandbox);
    const std::string id = "shared-" + nonce();
    auto cached = [&](const std::string& name, const std::string& repo, const std::string& script) {
        const auto ctx = make_context(name, run_dockerfile(script, "", "--mount=type=cache,target=/c,id=" + id + " "));
        auto request = request_for(ctx, name);
        request.cache = false;
        request.docker_hub.docker_repo = repo;
        LogLines log;
        auto result = build(request, log);
        EXPECT_TRUE(result.ok()) << result.error().message << log.text();
        return section(log, "seen");
    };
    cached("writer", "localhost/acme/one", "echo one > /c/mark");
    const std::string reader = "echo BEGIN-seen; /bin/busybox cat /c/mark 2>/dev/null || echo none; echo END-seen";
    EXPECT_EQ(cached("same", "localhost/acme/one", reader), std::vector<std::string>{"one"});
    EXPECT_EQ(cached("other", "localhost/acme/two", reader), std::vector<std::string>{"none"});
}

}  // namespace
}  // namespace hookyard::pipeline
