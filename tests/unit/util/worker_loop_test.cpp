// The loop shared by the scheduler and the dispatcher: a wake() runs the step again at once (also one
// that arrives while the step runs), the interval runs it without one, stop() joins and is idempotent.

#include "util/worker_loop.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "tests/support/support.hpp"

namespace hookyard::util {
namespace {

using namespace std::chrono_literals;

TEST(WorkerLoop, WakeRunsTheStepAgainLongBeforeTheInterval) {
    std::atomic<int> steps{0};
    WorkerLoop loop([&] { ++steps; }, 1h);
    loop.start();
    ASSERT_TRUE(test::wait_until([&] { return steps.load() == 1; }, 5s)) << "the first step runs at start";
    loop.wake();
    EXPECT_TRUE(test::wait_until([&] { return steps.load() == 2; }, 5s));
    loop.stop();
    EXPECT_TRUE(loop.stopping());
}

TEST(WorkerLoop, WithoutStepAtStartTheFirstStepWaitsForAWake) {
    std::atomic<int> steps{0};
    WorkerLoop loop([&] { ++steps; }, 1h, false);
    loop.start();
    EXPECT_FALSE(test::wait_until([&] { return steps.load() > 0; }, 300ms)) << "no step before a wake";
    loop.wake();
    EXPECT_TRUE(test::wait_until([&] { return steps.load() == 1; }, 5s));
}

TEST(WorkerLoop, AThrowingStepIsLoggedAndTheLoopGoesOn) {
    std::atomic<int> steps{0};
    WorkerLoop loop(
        [&] {
            if (++steps == 1) throw std::runtime_error("outbox row broke the planner");
        },
        1h);
    loop.start();
    ASSERT_TRUE(test::wait_until([&] { return steps.load() == 1; }, 5s));
    loop.wake();
    EXPECT_TRUE(test::wait_until([&] { return steps.load() == 2; }, 5s)) << "the thread survived the exception";
}

TEST(WorkerLoop, AWakeDuringTheStepIsNotLost) {
    std::atomic<int> steps{0};
    WorkerLoop* self = nullptr;
    WorkerLoop loop(
        [&] {
            if (++steps == 1) self->wake();
        },
        1h);
    self = &loop;
    loop.start();
    EXPECT_TRUE(test::wait_until([&] { return steps.load() == 2; }, 5s));
}

TEST(WorkerLoop, TheIntervalRunsTheStepWithoutAWake) {
    std::atomic<int> steps{0};
    WorkerLoop loop([&] { ++steps; }, 10ms);
    loop.start();
    EXPECT_TRUE(test::wait_until([&] { return steps.load() >= 3; }, 5s));
}

TEST(WorkerLoop, StopIsIdempotentAndStartAfterStopDoesNothing) {
    std::atomic<int> steps{0};
    WorkerLoop loop([&] { ++steps; }, 1h);
    loop.stop();
    loop.stop();
    loop.start();
    loop.wake();
    EXPECT_EQ(steps.load(), 0);
}

}  // namespace
}  // namespace hookyard::util
