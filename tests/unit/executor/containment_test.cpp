#include "pipeline/executor/containment.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "tests/support/proc.hpp"
#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

using namespace std::chrono_literals;

// A sleep whose command line no other process on the host has.
std::string unique_sleep(int n) { return "sleep 4242." + std::to_string(::getpid()) + std::to_string(n); }

// Whether a live process whose command line names `marker` starts its command line with `prefix`.
bool live_starting_with(const std::string& marker, const std::string& prefix) {
    for (const auto& p : test::live_processes_matching(marker)) {
        if (p.cmdline.rfind(prefix, 0) == 0) return true;
    }
    return false;
}

// The sleep itself is up: its command line starts with `cmd`. (The shell that starts it has `cmd` inside its
// own command line from the start; counting it let a crash come before the sleep existed.)
bool running(const std::string& cmd) { return live_starting_with(cmd, cmd); }

// Plays hookyard: a forked process runs `script` through run_child in `scope`'s placement, and is
// SIGKILLed once the script's processes are up — as kill -9 of the service would.
void run_and_crash(const std::string& script, const std::string& marker, ProcessContainment& containment) {
    const pid_t service = ::fork();
    ASSERT_GE(service, 0);
    if (service == 0) {
        auto scope = containment.open("7");
        const CancelSignal never;
        ChildSpec spec{{"/bin/sh", "-c", script}, {{"PATH", "/usr/bin:/bin"}}, "", scope->placement()};
        [[maybe_unused]] auto outcome =
            run_child(spec, {}, ChildLimits{std::chrono::steady_clock::now() + 300s, 1s}, never);
        ::_exit(0);
    }
    const bool up = test::wait_until([&] { return running(marker); }, 10s);
    ::kill(service, SIGKILL);
    ::waitpid(service, nullptr, 0);
    ASSERT_TRUE(up) << "the script never started";
    // The shell, the service's direct child, dies with it (PR_SET_PDEATHSIG), a moment after the service:
    // what a restart finds is only what outlived the crash.
    const auto shell_gone = [&] { return !live_starting_with(marker, "/bin/sh -c "); };
    ASSERT_TRUE(test::wait_until(shell_gone, 10s)) << "the script's shell outlived the service";
}

TEST(Containment, DirectChildDiesWithTheService) {
    test::TempDir dir;
    auto containment = ProcessContainment::make({dir.path(), "none"});
    const std::string marker = unique_sleep(1);
    run_and_crash("exec " + marker, marker, *containment);
    EXPECT_TRUE(test::wait_until([&] { return !running(marker); }, 5s)) << "PR_SET_PDEATHSIG did not fire";
}

TEST(Containment, RestartKillsWhatTheCrashedRunLeftInItsCgroup) {
    test::TempDir dir;
    auto first = ProcessContainment::make({dir.path(), ""});
    if (!first->uses_cgroups()) GTEST_SKIP() << first->describe();
    const std::string marker = unique_sleep(2);
    // setsid: a descendant outside the child's process group, like buildah's RUN steps may be.
    run_and_crash("setsid " + marker + " & wait", marker, *first);
    ASSERT_TRUE(running(marker)) << "the grandchild should have outlived the crash";

    auto second = ProcessContainment::make({dir.path(), ""});
    const auto killed = second->kill_leftovers();
    ASSERT_FALSE(killed.empty());
    EXPECT_NE(killed.front().find("4242."), std::string::npos) << killed.front();
    EXPECT_TRUE(test::wait_until([&] { return !running(marker); }, 5s));
}

TEST(Containment, RestartKillsJournaledProcessGroupsWithoutCgroups) {
    test::TempDir dir;
    auto first = ProcessContainment::make({dir.path(), "none"});
    ASSERT_FALSE(first->uses_cgroups());
    const std::string marker = unique_sleep(3);
    run_and_crash(marker + " & wait", marker, *first);
    ASSERT_TRUE(running(marker)) << "the grandchild should have outlived the crash";

    auto second = ProcessContainment::make({dir.path(), "none"});
    const auto killed = second->kill_leftovers();
    ASSERT_EQ(killed.size(), 1U);
    EXPECT_NE(killed.front().find(marker), std::string::npos) << killed.front();
    EXPECT_TRUE(test::wait_until([&] { return !running(marker); }, 5s));
    EXPECT_TRUE(second->kill_leftovers().empty()) << "the journal is cleared";
}

TEST(Containment, AnotherInstanceLeavesOurProcessesAlone) {
    test::TempDir mine;
    test::TempDir other;
    auto containment = ProcessContainment::make({mine.path(), ""});
    const std::string marker = unique_sleep(4);
    run_and_crash("setsid " + marker + " & " + marker + " & wait", marker, *containment);
    EXPECT_TRUE(ProcessContainment::make({other.path(), ""})->kill_leftovers().empty());
    EXPECT_TRUE(ProcessContainment::make({other.path(), "none"})->kill_leftovers().empty());
    EXPECT_TRUE(running(marker));
    ProcessContainment::make({mine.path(), ""})->kill_leftovers();
    ProcessContainment::make({mine.path(), "none"})->kill_leftovers();
    EXPECT_TRUE(test::wait_until([&] { return !running(marker); }, 5s));
}

TEST(Containment, FinishedScopeRemovesItsCgroup) {
    test::TempDir dir;
    auto containment = ProcessContainment::make({dir.path(), ""});
    if (!containment->uses_cgroups()) GTEST_SKIP() << containment->describe();
    std::string cgroup;
    {
        auto scope = containment->open("9");
        cgroup = scope->cgroup();
        const CancelSignal never;
        ChildSpec spec{{"/bin/sh", "-c", "cat /proc/self/cgroup"}, {{"PATH", "/usr/bin:/bin"}}, "", scope->placement()};
        std::string seen;
        auto outcome = run_child(
            spec, [&](std::string_view l) { seen += std::string(l) + "\n"; },
            ChildLimits{std::chrono::steady_clock::now() + 30s, 1s}, never);
        ASSERT_TRUE(outcome.ok());
        EXPECT_NE(seen.find("/hookyard/"), std::string::npos) << seen;
    }
    EXPECT_FALSE(std::filesystem::exists(cgroup));
}

}  // namespace
}  // namespace hookyard::pipeline
