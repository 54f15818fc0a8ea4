#pragma once
// The notification dispatcher: delivers the outbox with retries, exponential backoff and jitter, records
// every attempt, and survives restarts because the outbox is in the store. A receiver that is down, slow or
// failing never blocks builds (they only write the outbox) nor other receivers (one in-flight request per
// target, several targets in parallel, every request bounded by a timeout).

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config/model.hpp"
#include "http/client.hpp"
#include "storage/store.hpp"
#include "util/worker_loop.hpp"

namespace hookyard::notify {

struct DispatcherOptions {
    int max_attempts = 8;                             // then the notification is marked failed
    std::chrono::milliseconds timeout{10000};         // per request
    std::chrono::milliseconds initial_backoff{2000};  // doubles per attempt, ±20 % jitter, capped at 1 h
    int workers = 4;                                  // targets served at once
    std::chrono::milliseconds poll_interval{1000};    // how often the outbox is polled without a wake()
};

DispatcherOptions dispatcher_options(const config::Config& config);

// The delay before attempt `attempt + 1` after `attempt` failed (attempt ≥ 1): initial · 2^(attempt-1),
// capped at one hour, times a factor in [0.8, 1.2] from `jitter` in [0, 1]. Pure.
std::chrono::milliseconds backoff_delay(std::chrono::milliseconds initial, int attempt, double jitter);

using http::is_retryable_status;  // shared with the other HTTP clients: http/status.hpp

class Dispatcher {
public:
    // `store`, `config` and `client` must outlive the dispatcher.
    Dispatcher(storage::Store& store, const config::Config& config, http::Client& client, DispatcherOptions options);
    ~Dispatcher();  // stop()s
    Dispatcher(const Dispatcher&) = delete;
    Dispatcher& operator=(const Dispatcher&) = delete;

    void start();  // idempotent
    void wake();   // something was queued; thread-safe
    // Stops polling, lets in-flight requests finish (each bounded by the timeout), joins. Undelivered
    // notifications stay in the outbox for the next start. Idempotent.
    void stop();

private:
    void step();
    void deliver_all(std::string target, std::vector<storage::Notification> batch);
    void deliver(const storage::Notification& n);
    http::Request make_request(const storage::Notification& n, std::string& problem) const;

    storage::Store& m_store;
    const config::Config& m_config;
    http::Client& m_client;
    DispatcherOptions m_options;

    std::mutex m_mutex;
    std::set<std::string> m_busy;                  // targets with a worker, guarded by m_mutex
    std::map<std::string, std::thread> m_workers;  // guarded by m_mutex
    std::vector<std::thread> m_finished;           // workers to join, guarded by m_mutex
    util::WorkerLoop m_loop;                       // last: stopped before the members its step uses go
};

}  // namespace hookyard::notify
