#pragma once
// Cooperative cancellation, the one primitive every long pipeline step honours: the stage runner between
// stages, the executor (kills the build's process group), checkout (libgit2's progress callbacks and the
// fetch's blocking socket calls) and the registry upload (between requests, and the HTTP client's wait).
// Header-only, so that the stage libraries below pipeline/ (checkout, registry) can use it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace hookyard::pipeline {

// Cancellation of one build. Thread-safe. Callbacks registered with on_cancel() run once, on the thread
// that calls cancel() (or at once when already canceled).
class CancelToken {
public:
    enum class Reason { none, canceled, shutdown };

    // The first call wins; later calls do nothing.
    void cancel(Reason reason) {
        std::map<int, std::function<void()>> callbacks;
        {
            std::lock_guard lock(m_mutex);
            Reason expected = Reason::none;
            if (!m_reason.compare_exchange_strong(expected, reason)) return;
            callbacks.swap(m_callbacks);
            m_running_on = std::this_thread::get_id();
        }
        m_cv.notify_all();
        for (auto& [id, fn] : callbacks) fn();
        // Notified under the lock: once a waiting remove() returns, the token may be destroyed.
        std::lock_guard lock(m_mutex);
        m_running_on = std::thread::id();
        m_cv.notify_all();
    }
    bool canceled() const { return m_reason.load() != Reason::none; }
    Reason reason() const { return m_reason.load(); }

    // Registers `fn` to run on cancel; returns an id for remove(). Runs `fn` at once when already canceled.
    int on_cancel(std::function<void()> fn) {
        {
            std::lock_guard lock(m_mutex);
            if (!canceled()) {
                m_callbacks.emplace(m_next_id, std::move(fn));
                return m_next_id++;
            }
        }
        fn();
        return -1;
    }
    // Unregisters callback `id`. When cancel() is running the callbacks on another thread, waits until it is
    // done: after remove() returns, the callback no longer runs, so its owner may destroy what it uses.
    void remove(int id) {
        std::unique_lock lock(m_mutex);
        m_callbacks.erase(id);
        m_cv.wait(lock,
                  [this] { return m_running_on == std::thread::id() || m_running_on == std::this_thread::get_id(); });
    }

    // Sleeps for `delay` or until canceled, whichever comes first; returns canceled().
    bool wait_for(std::chrono::milliseconds delay) {
        std::unique_lock lock(m_mutex);
        m_cv.wait_for(lock, delay, [this] { return canceled(); });
        return canceled();
    }

private:
    std::atomic<Reason> m_reason{Reason::none};
    std::mutex m_mutex;
    std::condition_variable m_cv;
    int m_next_id = 0;
    std::map<int, std::function<void()>> m_callbacks;
    std::thread::id m_running_on;  // the thread running the callbacks in cancel(), if any
};

// Registers a callback for as long as it lives (removed on destruction). A null token registers nothing.
class CancelCallback {
public:
    CancelCallback(CancelToken* token, std::function<void()> fn)
        : m_token(token), m_id(token != nullptr ? token->on_cancel(std::move(fn)) : -1) {}
    CancelCallback(CancelToken& token, std::function<void()> fn) : CancelCallback(&token, std::move(fn)) {}
    ~CancelCallback() {
        if (m_token != nullptr) m_token->remove(m_id);
    }
    CancelCallback(const CancelCallback&) = delete;
    CancelCallback& operator=(const CancelCallback&) = delete;

private:
    CancelToken* m_token;
    int m_id;
};

}  // namespace hookyard::pipeline
