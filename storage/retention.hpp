#pragma once
// Retention as configured (retention: in the config): the store's prune() with the policy the config
// implies, plus the expired kept/ work dirs. Used by `hookyard prune` and by serve's PruneJob.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "config/model.hpp"
#include "storage/store.hpp"

namespace hookyard::storage {

struct RetentionResult {
    PruneResult store;
    std::int64_t kept_workdirs = 0;  // <data_dir>/kept/<id> dirs removed
};

// The store's policy for `retention` at `now` (unix ms).
PrunePolicy prune_policy(const config::RetentionConfig& retention, TimeMs now);

// One pruning run: the store, then kept/ work dirs older than retention.kept_workdirs. Logs one line.
util::Result<RetentionResult> run_retention(Store& store, const config::Config& config, bool dry_run);

// Runs run_retention every retention.interval on its own thread, from the first interval after start.
class PruneJob {
public:
    // `on_run` (may be empty) is called after each run with its result (rows 0 when it failed).
    PruneJob(Store& store, const config::Config& config, std::function<void(const RetentionResult&)> on_run);
    // Stops the thread (waits for a run in progress).
    ~PruneJob();
    PruneJob(const PruneJob&) = delete;
    PruneJob& operator=(const PruneJob&) = delete;

    void start();

private:
    void loop();

    Store& m_store;
    const config::Config& m_config;
    std::function<void(const RetentionResult&)> m_on_run;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stopping = false;
    std::thread m_thread;
};

}  // namespace hookyard::storage
