#pragma once
// One background thread that runs a step whenever it is woken, and at least every `interval`, until it is
// stopped: the loop shared by the scheduler, the notification dispatcher and the retention pruner.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace hookyard::util {

class WorkerLoop {
public:
    // `step` runs on the loop's thread only, never twice at once. A wake() while it runs makes it run
    // again at once. `step_at_start` false: the first step waits for a wake() or the interval.
    WorkerLoop(std::function<void()> step, std::chrono::milliseconds interval, bool step_at_start = true);
    ~WorkerLoop();  // stop()s
    WorkerLoop(const WorkerLoop&) = delete;
    WorkerLoop& operator=(const WorkerLoop&) = delete;

    // Starts the thread; the first step runs at once unless step_at_start was false. Idempotent; a no-op
    // after stop().
    void start();
    // Runs the step again as soon as possible. Thread-safe, cheap, callable from the step itself.
    void wake();
    // Lets a running step finish, then joins the thread. Idempotent; must not be called from the step.
    void stop();
    // True once stop() was called. Thread-safe.
    bool stopping() const { return m_stopping.load(); }

private:
    void run();
    void run_step();

    std::function<void()> m_step;
    std::chrono::milliseconds m_interval;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_step_at_start;
    bool m_wake = false;  // guarded by m_mutex
    std::atomic<bool> m_stopping{false};
    bool m_started = false;  // guarded by m_mutex
    std::thread m_thread;
};

}  // namespace hookyard::util
