#pragma once
// Retention as configured (retention: in the config): the store's prune() with the policy the config
// implies, plus the expired kept/ work dirs. Used by `hookyard prune` and by serve's PruneJob.

#include <cstdint>
#include <functional>
#include <string>

#include "config/model.hpp"
#include "storage/store.hpp"
#include "util/worker_loop.hpp"

namespace hookyard::storage {

struct RetentionResult {
    PruneResult store;
    std::int64_t kept_workdirs = 0;  // <data_dir>/kept/<id> dirs removed
};

// The store's policy for `retention` at `now` (unix ms).
PrunePolicy prune_policy(const config::RetentionConfig& retention, TimeMs now);

// One pruning run: the store, then kept/ work dirs older than retention.kept_workdirs. Logs one line.
util::Result<RetentionResult> run_retention(Store& store, const config::Config& config, bool dry_run);

// Runs run_retention every retention.interval on its own thread, from the first interval after start, when
// it holds the store's "prune" lease: of several instances sharing one database, one prunes per interval
// (the lease lasts the interval and is not released; the holder renews it, a crashed holder's runs out).
class PruneJob {
public:
    // The lease all pruners of one database compete for.
    static constexpr const char* k_lease = "prune";

    // `on_run` (may be empty) is called after each run with its result (rows 0 when it failed or another
    // instance holds the lease). `holder` names this instance in the lease (host:pid when empty).
    PruneJob(Store& store, const config::Config& config, std::function<void(const RetentionResult&)> on_run,
             std::string holder = {});
    // Stops the thread (waits for a run in progress).
    ~PruneJob() = default;
    PruneJob(const PruneJob&) = delete;
    PruneJob& operator=(const PruneJob&) = delete;

    void start();
    // Runs once as soon as possible (low disk space), then keeps the interval.
    void run_now();

private:
    // One run when this instance holds (or gets) the lease.
    RetentionResult run_once();

    Store& m_store;
    const config::Config& m_config;
    std::function<void(const RetentionResult&)> m_on_run;
    std::string m_holder;
    util::WorkerLoop m_loop;  // last: its thread uses the members above
};

}  // namespace hookyard::storage
