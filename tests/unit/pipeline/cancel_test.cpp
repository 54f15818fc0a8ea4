// CancelToken: a callback's owner may destroy what the callback uses once remove() has returned, even while
// cancel() runs the callbacks on another thread (ThreadSanitizer found the stage runner destroying a build
// job, and checkout its stall watchdog, while a cancel was still calling into them).

#include "pipeline/cancel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace hookyard::pipeline {
namespace {

TEST(CancelToken, RemoveWaitsForACallbackRunningOnAnotherThread) {
    CancelToken token;
    std::atomic<bool> entered{false};
    std::atomic<bool> release{false};
    std::atomic<bool> finished{false};
    const int id = token.on_cancel([&] {
        entered = true;
        while (!release) std::this_thread::yield();
        finished = true;
    });
    std::thread canceler([&] { token.cancel(CancelToken::Reason::canceled); });
    while (!entered) std::this_thread::yield();
    // The callback is running; it may finish only after remove() has had ample time to return early.
    std::thread releaser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        release = true;
    });
    token.remove(id);
    EXPECT_TRUE(finished) << "remove() returned while the callback was still running";
    releaser.join();
    canceler.join();
}

TEST(CancelToken, ACallbackMayRemoveCallbacksOnItsOwnThread) {
    CancelToken token;
    bool other_ran = false;
    const int other = token.on_cancel([&] { other_ran = true; });
    token.on_cancel([&] { token.remove(other); });
    token.cancel(CancelToken::Reason::shutdown);  // returns: no wait for itself
    EXPECT_TRUE(token.canceled());
    EXPECT_TRUE(other_ran);  // callbacks already taken by cancel() still run
}

}  // namespace
}  // namespace hookyard::pipeline
