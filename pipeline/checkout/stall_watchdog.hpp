#pragma once
// Network timeouts for libgit2 1.5, which has none of its own: a watchdog that, once a fetch has made
// no progress for a while, interrupts the fetching thread's blocking socket call so libgit2 returns an
// error instead of waiting forever on a server that went silent. Internal to pipeline/checkout.

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace hookyard::pipeline {

// Watches the thread that constructs it. While alive, if progress() is not called for `stall`, it
// sets fired() and keeps interrupting that thread (a no-op signal without SA_RESTART, so recv/connect
// fail with EINTR) every 100 ms until destroyed. Destroy it on the watched thread, right after the
// libgit2 call returns. One watchdog per fetch; progress() is safe from any thread.
class StallWatchdog {
public:
    explicit StallWatchdog(std::chrono::milliseconds stall);
    ~StallWatchdog();
    StallWatchdog(const StallWatchdog&) = delete;
    StallWatchdog& operator=(const StallWatchdog&) = delete;

    // Records that data arrived: the stall clock starts again.
    void progress();
    // Interrupts the watched thread now and keeps doing so, as a stall would, without counting as one
    // (fired() stays false): how a cancel breaks a blocking fetch. Safe from any thread.
    void interrupt();
    // True once the stall limit passed (the failed libgit2 call is then a timeout).
    bool fired() const { return m_fired.load(); }
    std::chrono::milliseconds limit() const { return m_stall; }

private:
    void run();

    std::chrono::milliseconds m_stall;
    pthread_t m_target;
    std::atomic<long long> m_last_ns;
    std::atomic<bool> m_fired{false};
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_done = false;
    bool m_interrupt = false;  // guarded by m_mutex
    std::thread m_thread;
};

}  // namespace hookyard::pipeline
