#pragma once
// Wake-ups across instances on PostgreSQL: the transactions that give builders work (a build queued or
// re-queued, a cancel requested) NOTIFY k_work_channel at commit; a Listener LISTENs on a connection of
// its own and calls back, so a builder claims at once instead of at its next poll. Internal to storage/.

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "storage/postgres_conn.hpp"

namespace hookyard::storage::postgres {

inline constexpr const char* k_work_channel = "hookyard_work";

// In a write transaction: wakes every listening instance once it commits (PostgreSQL folds the
// notifications of one transaction into one).
util::Status notify_work(Conn& db);

class Listener {
public:
    // Starts a thread that connects to `url`, LISTENs and calls `wake` for every batch of notifications.
    // After losing the database it reconnects every second, and calls `wake` once reconnected (what was
    // sent meanwhile is lost; the caller's poll covers it).
    Listener(std::string url, std::function<void()> wake);
    // Stops and joins the thread: `wake` is not called after it returns.
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

private:
    void run();
    // Waits `d` or until the destructor starts, whichever is first.
    void pause(std::chrono::milliseconds d) const;

    std::string m_url;
    std::function<void()> m_wake;
    std::atomic<bool> m_stopping{false};
    std::thread m_thread;  // last: starts once the members above exist
};

}  // namespace hookyard::storage::postgres
