// The test stage with real buildah containers: a depends_on service reached by name over the shared network,
// a failing sut's exit code and output, cancel, clean-up, and FILE:LINE errors for what the runner refuses.

#include "pipeline/executor/test_stage.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include "pipeline/executor/build_cgroup.hpp"
#include "tests/integration/executor/sandbox_fixture.hpp"
#include "tests/support/proc.hpp"
#include "tests/support/registry_server.hpp"

namespace hookyard::pipeline {
namespace {

using namespace std::chrono_literals;
using test_fixture::LogLines;
using test_fixture::nonce;

template <class Base>
class TestStageFixture : public Base {
protected:
    // Builds a FROM scratch + busybox image whose context holds `test_file` as docker-compose.test.yml.
    TestRequest built(const std::string& test_file) {
        const auto ctx = this->make_context("ctx",
                                            "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", "
                                            "\"--install\", \"-s\", \"/bin\"]\nENV NONCE=" +
                                                nonce() + "\nCMD [\"/bin/sh\"]\n");
        test::write_file(ctx + "/docker-compose.test.yml", test_file);
        TestRequest request;
        request.build = this->request_for(ctx, "tests");
        LogLines log;
        auto result = this->build(request.build, log);
        EXPECT_TRUE(result.ok()) << log.text();
        if (!result.ok()) return request;
        request.image_id = result->image_id;
        request.layout = "oci:" + result->layout_dir + ":" + result->layout_ref;
        return request;
    }

    // Runs the tests of `request`: they must pass, with `line` in the log.
    void expect_pass(const TestRequest& request, const std::string& line) {
        LogLines log;
        const auto status = this->m_executor->start_tests(request, log.sink())->wait();
        EXPECT_TRUE(status.ok()) << status.error().message << "\n" << log.text();
        EXPECT_NE(log.text().find(line), std::string::npos) << log.text();
        expect_no_containers();
    }

    // Test containers are removed whatever the outcome.
    void expect_no_containers() {
        std::string out;
        test::sh(this->buildah_cli() + " containers --quiet 2>&1", &out);
        EXPECT_EQ(out, "") << "test containers left behind";
    }
};

using TestStageTest = TestStageFixture<test_fixture::ExecutorTest>;

// The build sandbox of `hookyard serve`: runc, a containment cgroup and builder.limits.
class TestStageSandboxTest : public TestStageFixture<test_fixture::SandboxTest> {
protected:
    void SetUp() override {
        TestStageFixture::SetUp();
        if (IsSkipped()) return;
        if (cgroup_v1_mount("memory").empty()) GTEST_SKIP() << "limits need the cgroup v1 memory hierarchy";
        SandboxOptions sandbox;
        sandbox.limits = {64ULL * 1024 * 1024, 0, 0};
        use_sandbox(sandbox);
        if (!m_options.containment->uses_cgroups()) GTEST_SKIP() << m_options.containment->describe();
    }
};

TEST_F(TestStageTest, SutReachesItsDependencyByNameOverTheSharedNetwork) {
    auto request = built(R"(services:
  sut:
    build: .
    command: ["sh", "-c", "for i in $$(seq 300); do wget -q -O- http://web:8080/ && exit 0; sleep 0.2; done; exit 1"]
    depends_on: [web]
  web:
    image: $IMAGE_NAME
    working_dir: /www
    environment: { GREETING: served-by-web }
    command: ["sh", "-c", "echo $$GREETING > index.html && exec httpd -f -p 8080 -h ."]
)");
    request.build.docker_hub.docker_repo = "localhost/acme/app";
    request.build.docker_hub.docker_tag = "latest";
    expect_pass(request, "sut | served-by-web");
}

TEST_F(TestStageTest, FailingSutFailsWithItsExitCodeAndOutput) {
    const auto request = built("services:\n  sut:\n    build: .\n    command: sh -c 'echo broken-$$NONCE; exit 3'\n");
    LogLines log;
    const auto status = m_executor->start_tests(request, log.sink())->wait();
    ASSERT_FALSE(status.ok()) << log.text();
    EXPECT_EQ(status.error().kind, util::ErrorKind::invalid_input);
    const auto& message = status.error().message;
    EXPECT_NE(message.find("docker-compose.test.yml: sut failed with exit code 3"), std::string::npos) << message;
    EXPECT_NE(message.find("broken-"), std::string::npos) << message;
    EXPECT_NE(log.text().find("sut | broken-"), std::string::npos) << log.text();
    expect_no_containers();
}

TEST_F(TestStageTest, DependencyImageIsPulledFromAConfiguredRegistry) {
    auto request = built("services: {}\n");  // the built image is pushed as the dependency's image
    test::RegistryServer registry;
    const std::string web = registry.host() + "/acme/web:1";
    std::string out;
    ASSERT_EQ(test::sh("skopeo copy --dest-tls-verify=false " + request.layout + " docker://" + web + " 2>&1", &out), 0)
        << out;
    m_options.pull_registries = {PullRegistry{"local", registry.host(), true, "", "", ""}};
    m_executor = make_buildah_executor(m_options);
    test::write_file(
        std::filesystem::path(request.build.dockerfile).parent_path() / "docker-compose.test.yml",
        "services:\n  sut:\n    build: .\n    command: sh -c 'for i in $$(seq 300); do wget -q -O- "
        "http://web:8080/ && exit 0; sleep 0.2; done; exit 1'\n    depends_on: [web]\n  web:\n    image: " +
            web + "\n    command: sh -c 'mkdir /w && echo pulled-web > /w/index.html && httpd -f -p 8080 -h /w'\n");
    expect_pass(request, "sut | pulled-web");
}

TEST_F(TestStageTest, CancelStopsTheTestContainers) {
    const std::string token = nonce();
    const auto request = built("services:\n  sut:\n    build: .\n    command: sleep " + token + "\n");
    LogLines log;
    auto job = m_executor->start_tests(request, log.sink());
    ASSERT_TRUE(test::wait_until([&] { return !test::live_processes_matching("sleep " + token).empty(); }, 120s))
        << log.text();
    job->cancel();
    const auto status = job->wait();
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().kind, util::ErrorKind::canceled) << status.error().message;
    EXPECT_TRUE(test::wait_until([&] { return test::live_processes_matching("sleep " + token).empty(); }, 30s));
    expect_no_containers();
}

TEST_F(TestStageTest, WhatTheRunnerDoesNotSupportIsAnErrorNamingFileAndLine) {
    const auto ctx = make_context("ctx", "FROM scratch\n");
    TestRequest request;
    request.build = request_for(ctx, "refused");
    request.image_id = "sha256:" + std::string(64, '0');
    test::write_file(ctx + "/a.test.yml", "services:\n  sut:\n    build: .\n    privileged: true\n");
    test::write_file(ctx + "/b.test.yml",
                     "services:\n  sut:\n    build: .\n    depends_on: [db]\n  db:\n    image: elsewhere.example/db\n");
    LogLines log;
    auto status = m_executor->start_tests(request, log.sink())->wait();
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().message.rfind("a.test.yml:4: services.sut.privileged is not supported", 0), 0u)
        << status.error().message;
    std::filesystem::remove(ctx + "/a.test.yml");
    status = m_executor->start_tests(request, log.sink())->wait();
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().message.rfind("b.test.yml:6: services.db: image elsewhere.example/db is neither", 0), 0u)
        << status.error().message;
    expect_no_containers();
}

TEST_F(TestStageTest, StaleTestContainersOfAKilledHookyardAreRemovedAndLiveOnesStay) {
    pid_t dead = 4194303;  // pid_max's ceiling: no process has it on a normal host
    while (::kill(dead, 0) == 0) --dead;
    const std::string stale = "hookyard-test-7-" + std::to_string(dead) + "-1";
    const std::string live = "hookyard-test-8-" + std::to_string(::getpid()) + "-1";
    for (const auto& name : {stale, live}) {
        ASSERT_EQ(test::sh(buildah_cli() + " from --name " + name + " scratch >/dev/null 2>&1"), 0) << name;
    }
    EXPECT_EQ(remove_stale_test_containers(m_options), 1);
    std::string out;
    test::sh(buildah_cli() + " containers --noheading --format '{{.ContainerName}}' 2>&1", &out);
    EXPECT_EQ(out, live + "\n");
}

TEST_F(TestStageTest, HooksRunAroundTheTestsAndHooksTestReplacesTheFiles) {
    const auto ctx = make_context("ctx", "FROM scratch\n");
    TestRequest request;
    request.build = request_for(ctx, "hooks");
    request.build.hooks = true;
    request.image_id = "sha256:" + std::string(64, '0');
    test::write_file(ctx + "/docker-compose.test.yml", "services:\n  sut:\n    build: .\n    command: exit 1\n");
    for (const char* hook : {"pre_test", "test", "post_test"}) {
        test::write_file(ctx + "/hooks/" + hook, std::string("#!/bin/sh\necho hook-") + hook + "\n", true);
    }
    LogLines log;
    auto status = m_executor->start_tests(request, log.sink())->wait();
    ASSERT_TRUE(status.ok()) << status.error().message << "\n" << log.text();
    const auto text = log.text();
    const auto pre = text.find("hook-pre_test");
    const auto replaced = text.find("hook-test");
    const auto post = text.find("hook-post_test");
    ASSERT_NE(post, std::string::npos) << text;
    EXPECT_LT(pre, replaced) << text;
    EXPECT_LT(replaced, post) << text;

    test::write_file(ctx + "/hooks/test", "#!/bin/sh\nexit 4\n", true);
    status = m_executor->start_tests(request, log.sink())->wait();
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().message, "hooks/test failed with exit code 4; see the build log for its output");
}

TEST_F(TestStageSandboxTest, TestContainersRunUnderTheBuildsLimits) {
    // dd touches its whole 256 MiB buffer: four times the limit. The web service shares sut's network.
    const auto request = built(R"(services:
  sut:
    build: .
    command: sh -c 'for i in $$(seq 300); do wget -q -O- http://web:8080/ && break; sleep 0.2; done; dd if=/dev/zero of=/dev/null bs=256M count=1'
    depends_on: [web]
  web:
    build: .
    command: sh -c 'mkdir /w && echo web-up > /w/index.html && httpd -f -p 8080 -h /w'
)");
    LogLines log;
    const auto status = m_executor->start_tests(request, log.sink())->wait();
    ASSERT_FALSE(status.ok()) << log.text();
    EXPECT_NE(status.error().message.find("ran out of memory"), std::string::npos) << status.error().message;
    EXPECT_NE(status.error().message.find("64 MiB (builder.limits.memory)"), std::string::npos)
        << status.error().message;
    EXPECT_NE(log.text().find("sut | web-up"), std::string::npos) << log.text();
    expect_no_containers();
}

TEST_F(TestStageSandboxTest, SutAloneGetsTheBuildsFilteredNetwork) {
    require_root_and({"nft", "ip"}, "nftables and iproute2");
    if (IsSkipped()) return;
    // The network tests' host lock: they replace the filtered network's rules too.
    const int lock = ::open("/run/lock/hookyard-network-test.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(lock, 0);
    ASSERT_EQ(::flock(lock, LOCK_EX), 0);
    if (use_filtered_network()) {
        const auto request = built("services:\n  sut:\n    build: .\n    command: sh -c 'ip -4 -o addr show eth0'\n");
        expect_pass(request, "inet 10.213.");
    }
    ::close(lock);
}

}  // namespace
}  // namespace hookyard::pipeline
