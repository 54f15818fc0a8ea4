#pragma once
// Retention as configured (retention: in the config): the store's prune() with the policy the config
// implies, plus the expired kept/ work dirs. Used by `hookyard prune` and by serve's PruneJob.

#include <atomic>
#include <condition_variable>
#include <cstdint>
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
    PruneJob(Store& store, const config::Config& config);
    // Stops the thread (waits for a run in progress).
    ~PruneJob();
    PruneJob(const PruneJob&) = delete;
    PruneJob& operator=(const PruneJob&) = delete;

    void start();
    std::uint64_t runs() const { return m_runs.load(); }
    std::uint64_t pruned_rows() const { return m_rows.load(); }

private:
    void loop();

    Store& m_store;
    const config::Config& m_config;
    std::atomic<std::uint64_t> m_runs{0};
    std::atomic<std::uint64_t> m_rows{0};
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stopping = false;
    std::thread m_thread;
};

}  // namespace hookyard::storage
