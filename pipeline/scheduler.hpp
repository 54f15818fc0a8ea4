#pragma once
// The scheduler: claims queued builds from the store and runs them, at most `concurrency` at once.
// Everything it decides survives a restart because it lives in the store: claims, stages, outcomes.
// Two builds that push the same image reference never run at once and an older queued build of the same
// repository + rule + ref is superseded by a newer one; the store's claim enforces both.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/cancel.hpp"
#include "storage/store.hpp"
#include "util/worker_loop.hpp"

namespace hookyard::pipeline {

// How one build ended, as the runner saw it.
struct RunOutcome {
    storage::BuildState state = storage::BuildState::failed;  // succeeded | failed | canceled | superseded
    std::string digest;                                       // manifest digest pushed, "sha256:…", on success
    std::string error;                                        // the cause and the fix, on failure
    bool interrupted = false;  // stopped by shutdown: leave the build running so recovery re-queues it
};

// Runs one claimed build through its stages (checkout → locate → build → push), recording stages and
// the log in the store. It does not finish the build: the scheduler does, through BuildEvents.
// Called from scheduler worker threads, several builds at once. Must return soon after `token` is canceled.
class BuildRunner {
public:
    virtual ~BuildRunner() = default;
    virtual RunOutcome run(const storage::Build& build, CancelToken& token) = 0;
};

// What the scheduler reports; the notifications module implements it so that finishing a build and
// queuing its notifications is one transaction.
class BuildEvents {
public:
    virtual ~BuildEvents() = default;
    // A build was claimed and is now running. Errors are logged, never fatal.
    virtual void started(const storage::Build& build) = 0;
    // Finishes the build in the store with the outcome (and queues its notifications in the same
    // transaction). conflict when the build was already finished (it is then left alone).
    virtual util::Status finish(const storage::Build& build, const RunOutcome& outcome) = 0;
};

// BuildEvents that only finishes builds in the store (no notifications).
std::unique_ptr<BuildEvents> make_plain_build_events(storage::Store& store);

struct SchedulerOptions {
    int concurrency = 2;
    // How often the store is polled for work queued by other processes (the API, another instance).
    std::chrono::milliseconds poll_interval{1000};
    // How often running builds are checked for an API cancel request.
    std::chrono::milliseconds cancel_poll{250};
    // How often the leases of this instance's running builds are renewed, and builds whose lease expired
    // (their instance died) go back to the queue (Store::requeue_expired); 0 = never.
    std::chrono::milliseconds heartbeat{0};
    // Store::requeue_expired's max_attempts: a build found abandoned this often in a row fails.
    int max_recoveries = 5;
    // Checked before every claim (may be empty): while it returns reasons, nothing is claimed and queued
    // builds stay queued (low disk space). Called on the scheduler's thread; must be cheap.
    std::function<std::vector<std::string>()> hold;
};

class Scheduler {
public:
    // Nothing runs until start(). `store`, `runner` and `events` must outlive the scheduler.
    Scheduler(storage::Store& store, BuildRunner& runner, BuildEvents& events, SchedulerOptions options);
    ~Scheduler();  // stop()s
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Starts claiming. Call recover() first after a crash. Idempotent.
    void start();
    // Wakes the claim loop at once (a build was just queued). Thread-safe, cheap.
    void wake();
    // Stops claiming and interrupts running builds (they stay `running` in the store so the next start's
    // recovery re-queues them), then joins every thread. Idempotent.
    void stop();

    // Number of builds running in this process now.
    int running() const;

private:
    struct Slot {
        storage::Build build;
        CancelToken token;
        std::thread thread;
        std::atomic<bool> done{false};
    };

    void step();
    void claim_more();
    // Joins the threads of finished builds; returns how many.
    int reap();
    void poll_cancels();
    // Renews this instance's build leases and re-queues expired ones (SchedulerOptions::heartbeat).
    void heartbeat();
    void run_slot(Slot& slot);
    // m_events.finish, with anything it throws logged and recorded as a failed build instead of escaping.
    util::Status finish_safely(const storage::Build& build, RunOutcome outcome);
    // True (and logged once per change) while options.hold gives reasons.
    bool held();

    storage::Store& m_store;
    BuildRunner& m_runner;
    BuildEvents& m_events;
    SchedulerOptions m_options;

    mutable std::mutex m_mutex;
    bool m_stopping = false;                                   // guarded by m_mutex
    std::vector<std::unique_ptr<Slot>> m_slots;                // guarded by m_mutex
    std::chrono::steady_clock::time_point m_next_cancel_poll;  // the loop's thread only
    std::chrono::steady_clock::time_point m_next_claim;        // the loop's thread only
    std::chrono::steady_clock::time_point m_next_heartbeat;    // the loop's thread only
    std::vector<std::string> m_hold_reasons;                   // the loop's thread only
    util::WorkerLoop m_loop;                                   // last: stopped before the members its step uses go
};

}  // namespace hookyard::pipeline
