#pragma once
// Cooperative cancellation, the one primitive every long pipeline step honours: the stage runner between
// stages, the executor (kills the build's process group), checkout (libgit2's progress callbacks) and the
// registry upload (between requests, and the HTTP client's wait).

#include <atomic>
#include <functional>
#include <map>
#include <mutex>

namespace hookyard::pipeline {

// Cancellation of one build. Thread-safe. Callbacks registered with on_cancel() run once, on the thread
// that calls cancel() (or at once when already canceled).
class CancelToken {
public:
    enum class Reason { none, canceled, shutdown };
    // The first call wins; later calls do nothing.
    void cancel(Reason reason);
    bool canceled() const { return m_reason.load() != Reason::none; }
    Reason reason() const { return m_reason.load(); }
    // Registers `fn` to run on cancel; returns an id for remove(). Runs `fn` at once when already canceled.
    int on_cancel(std::function<void()> fn);
    void remove(int id);

private:
    std::atomic<Reason> m_reason{Reason::none};
    std::mutex m_mutex;
    int m_next_id = 0;
    std::map<int, std::function<void()>> m_callbacks;
};

// Registers a callback for as long as it lives (removed on destruction).
class CancelCallback {
public:
    CancelCallback(CancelToken& token, std::function<void()> fn)
        : m_token(token), m_id(token.on_cancel(std::move(fn))) {}
    ~CancelCallback() { m_token.remove(m_id); }
    CancelCallback(const CancelCallback&) = delete;
    CancelCallback& operator=(const CancelCallback&) = delete;

private:
    CancelToken& m_token;
    int m_id;
};

}  // namespace hookyard::pipeline
