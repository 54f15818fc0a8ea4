// buildah working containers of killed builds: a kill -9 of the service mid-RUN leaves them, the next
// start removes them; a build whose buildah is SIGKILLed (no grace period) has them removed when it ends.
// A container the test creates itself with `buildah from scratch`, and a running build's, stay.

#include "pipeline/executor/buildah_leftovers.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "pipeline/executor/containment.hpp"
#include "tests/integration/executor/sandbox_fixture.hpp"
#include "tests/support/proc.hpp"

namespace hookyard::pipeline {
namespace {

using namespace std::chrono_literals;

class BuildahLeftoversTest : public test_fixture::SandboxTest {
protected:
    void SetUp() override {
        SandboxTest::SetUp();
        if (IsSkipped()) return;
        m_options.containment = ProcessContainment::make({m_dir / "data", ""});
        if (!m_options.containment->uses_cgroups()) GTEST_SKIP() << "needs a writable cgroup v2 hierarchy";
        m_executor = make_buildah_executor(m_options);
        std::string id;
        ASSERT_EQ(test::sh(buildah_cli() + " from --name someone-elses scratch 2>&1", &id), 0) << id;
        m_unrelated = containers();
        ASSERT_EQ(m_unrelated.size(), 1u);
    }

    void TearDown() override {
        if (m_service > 0) {
            ::kill(m_service, SIGKILL);
            ::waitpid(m_service, nullptr, 0);
        }
        SandboxTest::TearDown();
    }

    // The full ids of the containers in this test's buildah storage, sorted.
    std::vector<std::string> containers() const {
        std::string out;
        test::sh(buildah_cli() + " containers -q --notruncate", &out);
        std::vector<std::string> ids;
        std::istringstream in(out);
        for (std::string id; in >> id;) ids.push_back(id);
        std::sort(ids.begin(), ids.end());
        return ids;
    }

    // A build whose RUN step sleeps until killed; returns once that step runs (its token is on a command line).
    BuildRequest sleeping_request(const std::string& name, std::string& token) {
        token = test_fixture::nonce();
        const auto ctx = make_context(name + "-ctx",
                                      "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\","
                                      "\"sh\",\"-c\",\"/bin/busybox sleep 300; echo " +
                                          token + "\"]\n");
        return request_for(ctx, name);
    }

    static bool run_step_started(const std::string& token) {
        return test::wait_until([&] { return !test::live_processes_matching(token).empty(); }, 120s);
    }

    std::vector<std::string> m_unrelated;
    pid_t m_service = -1;
};

TEST_F(BuildahLeftoversTest, TheNextStartRemovesWhatAKilledServiceLeftAndNothingElse) {
    std::string token;
    const auto request = sleeping_request("killed", token);
    m_service = ::fork();
    if (m_service == 0) {
        [[maybe_unused]] auto result = make_buildah_executor(m_options)->start(request, {})->wait();
        ::_exit(0);
    }
    ASSERT_TRUE(run_step_started(token)) << "the RUN step never started";
    const auto during = containers();
    ASSERT_GT(during.size(), m_unrelated.size()) << "the build has working containers";
    EXPECT_TRUE(remove_buildah_leftovers(m_options).removed.empty()) << "a running build's containers stay";
    EXPECT_EQ(containers(), during);

    ::kill(m_service, SIGKILL);
    ::waitpid(m_service, nullptr, 0);
    m_service = -1;
    ASSERT_TRUE(test::wait_until([&] { return test::live_processes_matching(request.work_dir).empty(); }, 30s));
    ASSERT_EQ(containers(), during) << "buildah killed with the service leaves its working containers";

    BuildahOptions restarted = m_options;
    restarted.containment = ProcessContainment::make({m_dir / "data", ""});
    restarted.containment->kill_leftovers();
    const auto removed = remove_buildah_leftovers(restarted);
    EXPECT_TRUE(removed.problems.empty()) << removed.problems.front();
    ASSERT_EQ(removed.removed.size(), during.size() - m_unrelated.size());
    EXPECT_NE(removed.removed.front().find("working-container"), std::string::npos) << removed.removed.front();
    EXPECT_EQ(containers(), m_unrelated) << "only the killed build's containers go";
    EXPECT_TRUE(remove_buildah_leftovers(restarted).removed.empty()) << "a second sweep finds nothing";
}

TEST_F(BuildahLeftoversTest, ABuildahKilledWithoutGraceHasItsContainersRemovedWhenTheBuildEnds) {
    m_options.kill_grace = 0ms;  // SIGKILL right after SIGTERM: buildah has no time to remove its container
    m_executor = make_buildah_executor(m_options);
    std::string token;
    const auto request = sleeping_request("canceled", token);
    test_fixture::LogLines log;
    auto job = m_executor->start(request, log.sink());
    ASSERT_TRUE(run_step_started(token)) << log.text();
    ASSERT_GT(containers().size(), m_unrelated.size()) << "the build has working containers";
    job->cancel();
    const auto result = job->wait();
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, util::ErrorKind::canceled) << result.error().message;
    EXPECT_EQ(containers(), m_unrelated) << "the canceled build's containers are removed, the other stays";
}

TEST(BuildahLeftoverScope, OnlyContainersBelowTheInstanceNameABuildScope) {
    EXPECT_EQ(leftover_build_scope("/hookyard/i1/b7-100-0/run", "/hookyard/i1"), "b7-100-0");
    EXPECT_EQ(leftover_build_scope("/hookyard/i12/b7-100-0/run", "/hookyard/i1"), "");
    EXPECT_EQ(leftover_build_scope("/hookyard/i1/../x/run", "/hookyard/i1"), "");
    EXPECT_EQ(leftover_build_scope("", "/hookyard/i1"), "");
    EXPECT_EQ(leftover_build_scope("/hookyard/i1/b7/run", ""), "");
}

}  // namespace
}  // namespace hookyard::pipeline
