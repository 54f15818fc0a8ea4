#include "util/worker_loop.hpp"

#include "util/log.hpp"

namespace hookyard::util {

WorkerLoop::WorkerLoop(std::function<void()> step, std::chrono::milliseconds interval, bool step_at_start)
    : m_step(std::move(step)), m_interval(interval), m_step_at_start(step_at_start) {}

WorkerLoop::~WorkerLoop() { stop(); }

void WorkerLoop::start() {
    std::lock_guard lock(m_mutex);
    if (m_started || m_stopping) return;
    m_started = true;
    m_thread = std::thread([this] { run(); });
}

void WorkerLoop::wake() {
    {
        std::lock_guard lock(m_mutex);
        m_wake = true;
    }
    m_cv.notify_all();
}

void WorkerLoop::stop() {
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping.exchange(true)) return;  // the first stop() joins
    }
    m_cv.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

void WorkerLoop::run_step() {
    // An exception escaping a thread terminates the process; one failed step is logged and the loop goes on.
    try {
        m_step();
    } catch (const std::exception& e) {
        log_error("worker", std::string("loop step failed: ") + e.what());
    } catch (...) {
        log_error("worker", "loop step failed with an unknown exception");
    }
}

void WorkerLoop::run() {
    std::unique_lock lock(m_mutex);
    if (!m_step_at_start) m_cv.wait_for(lock, m_interval, [this] { return m_wake || m_stopping.load(); });
    while (!m_stopping) {
        // Cleared before the step, so a wake() during it is not lost.
        m_wake = false;
        lock.unlock();
        run_step();
        lock.lock();
        m_cv.wait_for(lock, m_interval, [this] { return m_wake || m_stopping.load(); });
    }
}

}  // namespace hookyard::util
