#include "pipeline/executor/child_process.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <mutex>
#include <thread>

#include "tests/support/log_lines.hpp"
#include "tests/support/proc.hpp"
#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

using namespace std::chrono_literals;

// Collects lines from the supervisor thread; the test thread reads them.
class Lines : public test::LogLines {
public:
    // The process group the shell reported with "pgid=$$" (the shell is the group leader), or 0.
    int pgid() const {
        for (const auto& l : lines()) {
            if (l.rfind("pgid=", 0) == 0) return std::stoi(l.substr(5));
        }
        return 0;
    }
};

// True once no live process is left in `pgid`. Killed processes may still be in the middle of exiting
// when run_child returns (the signal is sent, the exit is the kernel's), hence the short poll.
bool gone(int pgid) {
    return test::wait_until([&] { return test::live_processes_in_group(pgid).empty(); }, 5s);
}

ChildLimits limits_for(std::chrono::milliseconds timeout, std::chrono::milliseconds grace = 2000ms) {
    return ChildLimits{std::chrono::steady_clock::now() + timeout, grace};
}

TEST(RunChild, StreamsMergedOutputLineByLineAndReportsExitCode) {
    Lines lines;
    const CancelSignal never;
    ChildSpec spec{
        {"sh", "-c", "echo one; echo two >&2; printf 'three\\r\\nfour'; exit 4"}, {{"PATH", "/usr/bin:/bin"}}, "", {}};
    auto outcome = run_child(spec, lines.sink(), limits_for(30s), never);
    ASSERT_TRUE(outcome.ok()) << outcome.error().message;
    EXPECT_EQ(outcome->exit_code, 4);
    EXPECT_FALSE(outcome->ok());
    EXPECT_EQ(lines.lines(), (std::vector<std::string>{"one", "two", "three", "four"}));
}

TEST(RunChild, EnvironmentIsExactlyTheGivenOneAndCwdApplies) {
    Lines lines;
    const CancelSignal never;
    test::TempDir dir;
    setenv("HOOKYARD_TEST_LEAK", "leaked", 1);
    ChildSpec spec{
        {"/bin/sh", "-c", "echo \"[$HOOKYARD_TEST_LEAK][$ONLY]\"; pwd"}, {{"ONLY", "given"}}, dir.path(), {}};
    auto outcome = run_child(spec, lines.sink(), limits_for(30s), never);
    unsetenv("HOOKYARD_TEST_LEAK");
    ASSERT_TRUE(outcome.ok());
    EXPECT_EQ(lines.lines(), (std::vector<std::string>{"[][given]", dir.path()}));
}

TEST(RunChild, MissingProgramIsNotFound) {
    const CancelSignal never;
    auto outcome =
        run_child({{"hookyard-no-such-program"}, {{"PATH", "/usr/bin:/bin"}}, "", {}}, {}, limits_for(5s), never);
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.error().kind, util::ErrorKind::not_found);
    EXPECT_EQ(find_program("sh", {{"PATH", "/nonexistent:/bin"}}), "/bin/sh");
    EXPECT_EQ(find_program("sh", {{"PATH", "/nonexistent"}}), "");
}

TEST(RunChild, CancelKillsTheWholeProcessGroupIncludingGrandchildren) {
    Lines lines;
    CancelSignal cancel;
    ChildSpec spec{
        {"/bin/sh", "-c", "echo pgid=$$; sleep 300 & sleep 301 & wait"}, {{"PATH", "/usr/bin:/bin"}}, "", {}};
    std::optional<util::Result<ChildOutcome>> outcome;
    std::thread runner([&] { outcome.emplace(run_child(spec, lines.sink(), limits_for(300s), cancel)); });
    ASSERT_TRUE(test::wait_until(
        [&] { return lines.pgid() != 0 && test::live_processes_in_group(lines.pgid()).size() >= 3; }, 10s));
    const int pgid = lines.pgid();
    cancel.raise();
    runner.join();
    ASSERT_TRUE(outcome->ok());
    EXPECT_TRUE((*outcome)->canceled);
    EXPECT_TRUE(gone(pgid));
}

TEST(RunChild, DeadlineSendsTermThenKillToAGroupThatIgnoresTerm) {
    Lines lines;
    const CancelSignal never;
    ChildSpec spec{
        {"/bin/sh", "-c", "trap '' TERM; echo pgid=$$; sleep 300 & wait; wait"}, {{"PATH", "/usr/bin:/bin"}}, "", {}};
    auto outcome = run_child(spec, lines.sink(), limits_for(1s, 300ms), never);
    ASSERT_TRUE(outcome.ok());
    EXPECT_TRUE(outcome->timed_out);
    EXPECT_EQ(outcome->signal, SIGKILL);
    ASSERT_NE(lines.pgid(), 0);
    EXPECT_TRUE(gone(lines.pgid()));
}

TEST(RunChild, ProcessesLeftBehindByTheLeaderAreKilled) {
    Lines lines;
    const CancelSignal never;
    // The background sleep keeps the output pipe open after the shell exits.
    ChildSpec spec{{"/bin/sh", "-c", "echo pgid=$$; sleep 300 & exit 0"}, {{"PATH", "/usr/bin:/bin"}}, "", {}};
    auto outcome = run_child(spec, lines.sink(), limits_for(60s), never);
    ASSERT_TRUE(outcome.ok());
    EXPECT_TRUE(outcome->ok());
    ASSERT_NE(lines.pgid(), 0);
    EXPECT_TRUE(gone(lines.pgid()));
}

}  // namespace
}  // namespace hookyard::pipeline
