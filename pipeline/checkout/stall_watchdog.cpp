#include "pipeline/checkout/stall_watchdog.hpp"

#include <csignal>

namespace hookyard::pipeline {

namespace {

// A real-time signal nobody else in hookyard uses; its handler does nothing, and installing it without
// SA_RESTART is what makes the interrupted socket call return EINTR.
int interrupt_signal() { return SIGRTMIN + 5; }

void ignore_signal(int) {}

void install_handler_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction sa {};
        sa.sa_handler = ignore_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0;
        sigaction(interrupt_signal(), &sa, nullptr);
    });
}

long long now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

StallWatchdog::StallWatchdog(std::chrono::milliseconds stall)
    : m_stall(stall), m_target(pthread_self()), m_last_ns(now_ns()) {
    install_handler_once();
    // A server's main thread may block signals for its workers; this thread must still receive ours.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, interrupt_signal());
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    m_thread = std::thread([this] { run(); });
}

StallWatchdog::~StallWatchdog() {
    {
        std::lock_guard lock(m_mutex);
        m_done = true;
    }
    m_cv.notify_all();
    m_thread.join();
}

void StallWatchdog::progress() { m_last_ns.store(now_ns()); }

void StallWatchdog::interrupt() {
    {
        std::lock_guard lock(m_mutex);
        m_interrupt = true;
    }
    m_cv.notify_all();
}

void StallWatchdog::run() {
    std::unique_lock lock(m_mutex);
    while (!m_done) {
        const auto idle = std::chrono::nanoseconds(now_ns() - m_last_ns.load());
        if (m_interrupt || idle >= m_stall) {
            if (!m_interrupt) m_fired.store(true);
            // Repeated: a signal landing between two system calls interrupts nothing.
            pthread_kill(m_target, interrupt_signal());
            m_cv.wait_for(lock, std::chrono::milliseconds(100));
        } else {
            m_cv.wait_for(lock, m_stall - idle, [this] { return m_done || m_interrupt; });
        }
    }
}

}  // namespace hookyard::pipeline
