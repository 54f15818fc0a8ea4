// kill -9 of the service in the middle of a real buildah build: buildah dies with it, and what is left
// of the build (the RUN step) is killed by the next start of the same instance.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include "pipeline/executor/containment.hpp"
#include "tests/integration/executor/build_fixture.hpp"
#include "tests/support/proc.hpp"

namespace hookyard::pipeline {
namespace {

using namespace std::chrono_literals;
using test_fixture::ExecutorTest;

class CrashTest : public ExecutorTest {
protected:
    // A build whose RUN step sleeps for an unusual number of seconds, so the sleep is findable by name,
    // and starts a second sleep in a session of its own (as a daemonizing step would).
    std::string start_service_and_wait_for_run_step(const std::string& data_dir, BuildRequest& request) {
        std::random_device rd;
        const std::string sleep = "sleep " + std::to_string(4000000 + rd() % 1000000);
        const std::string bb = "/bin/busybox ";
        const auto ctx =
            make_context("ctx", "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"sh\",\"-c\",\"" + bb +
                                    "setsid " + bb + sleep + " & exec " + bb + sleep + "\"]\n");
        request = request_for(ctx, "crash");
        BuildahOptions options = m_options;
        options.containment = ProcessContainment::make({data_dir, ""});
        m_service = ::fork();
        if (m_service == 0) {
            auto executor = make_buildah_executor(options);
            [[maybe_unused]] auto result = executor->start(request, {})->wait();
            ::_exit(0);
        }
        const bool up = test::wait_until([&] { return test::live_processes_matching(sleep).size() >= 2; }, 60s);
        EXPECT_TRUE(up) << "the RUN step never started";
        return sleep;
    }

    void TearDown() override {
        if (m_service > 0) {
            ::kill(m_service, SIGKILL);
            ::waitpid(m_service, nullptr, 0);
        }
        ExecutorTest::TearDown();
    }

    pid_t m_service = -1;
};

bool restarted_uses_cgroups(const std::string& data_dir) {
    return ProcessContainment::make({data_dir, ""})->uses_cgroups();
}

TEST_F(CrashTest, BuildahDiesWithTheServiceAndTheRestartKillsTheRest) {
    const std::string data_dir = m_dir / "data";
    BuildRequest request;
    const std::string sleep = start_service_and_wait_for_run_step(data_dir, request);
    ::kill(m_service, SIGKILL);
    ::waitpid(m_service, nullptr, 0);
    m_service = -1;
    EXPECT_TRUE(test::wait_until([&] { return test::live_processes_matching(request.work_dir).empty(); }, 5s))
        << "buildah outlived the service";

    const bool survived = !test::live_processes_matching(sleep).empty();
    if (restarted_uses_cgroups(data_dir)) {
        EXPECT_TRUE(survived) << "the session leader should outlive buildah";
    }
    auto restarted = ProcessContainment::make({data_dir, ""});
    const auto killed = restarted->kill_leftovers();
    std::string text;
    for (const auto& line : killed) text += line + "\n";
    EXPECT_TRUE(test::wait_until([&] { return test::live_processes_matching(sleep).empty(); }, 5s))
        << "the RUN step outlived the restart; killed:\n"
        << text;
    EXPECT_TRUE(restarted->kill_leftovers().empty()) << "a second start finds nothing";
}

}  // namespace
}  // namespace hookyard::pipeline
