#pragma once
// The Store: everything hookyard must not lose across a restart (deliveries, builds, stages, logs).
// The contract is written so another implementation (PostgreSQL) can follow without changing callers.
// Every call is thread-safe. Errors are values: not_found for an unknown id, conflict for a state change
// the state machine forbids (build_state.hpp), transient/internal for database trouble.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/outbox.hpp"
#include "storage/records.hpp"
#include "util/result.hpp"

namespace hookyard::storage {

using AcceptCallback = std::function<void(util::Result<AcceptOutcome>)>;

// What prune() removes (retention: in the config). Times are unix ms.
struct PrunePolicy {
    TimeMs builds_before = 0;      // terminal builds created before this go, except those kept below
    int keep_per_rule = 20;        // the newest builds of each repository+rule always stay
    TimeMs deliveries_before = 0;  // deliveries received before this go
    bool dry_run = false;          // count only
    int batch = 500;               // rows of builds per write transaction: bounds how long the lock is held
};

struct PruneResult {
    std::int64_t builds = 0;      // builds removed (or that would be, in a dry run)
    std::int64_t deliveries = 0;  // deliveries removed
    std::int64_t rows = 0;        // every row removed: builds, logs, stages, notifications, attempts, callbacks
};

// Who claims through this store (cluster: in the config): several instances may share one database.
struct ClusterIdentity {
    std::string instance_id;                 // recorded on every build it claims (Build::instance)
    std::chrono::milliseconds lease{30000};  // a claim not renewed for this long counts as abandoned
};

class Store {
public:
    virtual ~Store() = default;

    // Durably records a delivery and queues its builds in ONE transaction. When the delivery id is
    // already stored, writes nothing and reports duplicate with the stored build ids (idempotent).
    // `done` runs exactly once, on a store thread, only after the transaction is durable (or failed);
    // it must not block for long. Concurrent calls are committed together (group commit).
    virtual void accept_delivery(Delivery delivery, std::vector<NewBuild> builds, AcceptCallback done) = 0;

    // Queues builds that belong to no delivery (API trigger); returns them as stored. One transaction.
    virtual util::Result<std::vector<Build>> insert_builds(std::vector<NewBuild> builds) = 0;

    // The build with this id, stages included; not_found otherwise.
    virtual util::Result<Build> get_build(BuildId id) = 0;
    // Builds matching the filter, newest first, stages included.
    virtual util::Result<std::vector<Build>> list_builds(const BuildFilter& filter) = 0;

    // Sets the planner that turns every build state change into outbox notifications, queued in the same
    // transaction as the change (build.queued on insert, build.started on claim, build.succeeded/failed/
    // canceled on finish or cancel). Call once, before any other call; without it nothing is queued.
    virtual void set_event_planner(EventPlanner planner) = 0;

    // --- for the scheduler ---
    // Atomically moves the oldest queued build that no newer build (not canceled) of the same repository +
    // rule + ref replaces, and none of whose image references a running build pushes, to running (started_at =
    // now) and returns it; nullopt when there is none. Replaced queued builds become superseded
    // (superseded_by = the newest), a bounded batch per call. Two callers never get the same build.
    virtual util::Result<std::optional<Build>> claim_next_queued() = 0;
    // Moves this queued build to running (started_at = now) for a caller that runs it itself (the
    // `hookyard build` command); conflict when it is no longer queued, not_found for an unknown id.
    virtual util::Result<Build> claim(BuildId id) = 0;
    // Records the commit a build resolved at checkout (trigger builds are queued without one); a no-op when
    // the build already has a commit. not_found for an unknown build.
    virtual util::Status set_commit(BuildId id, const std::string& sha) = 0;
    // Replaces the tags of a build whose tag template rendered again once its commit was known (a trigger
    // build's {sha}); idempotent. not_found for an unknown build.
    virtual util::Status set_tags(BuildId id, const std::vector<std::string>& tags,
                                  const std::vector<std::string>& sanitized_tags) = 0;
    // Appends a running stage to a running build; conflict if the build is not running.
    virtual util::Status start_stage(BuildId id, const std::string& name) = 0;
    // Ends the build's running stage of that name with succeeded|failed|canceled (duration measured by
    // the store); not_found when no such stage is running.
    virtual util::Status finish_stage(BuildId id, const std::string& name, BuildState result,
                                      const std::string& error) = 0;
    // Moves a build to a terminal state (finished_at = now; digest/error recorded); conflict when the
    // transition is not allowed, e.g. finishing an already finished build.
    virtual util::Status finish_build(BuildId id, BuildState terminal, const std::string& digest,
                                      const std::string& error) = 0;
    // Crash recovery: every running build goes back to queued (attempts + 1, crash_streak + 1, open stages
    // marked failed "interrupted by restart"), except builds this recovery finds running for the
    // (max_attempts + 1)th time in a row, which fail with that reason: a build that crashes the service stops
    // crash-looping it, while a build that was only unlucky once in a while goes on. Every build it finds
    // queued gets crash_streak 0. Returns how many were re-queued. Call once per start. On a database that
    // several instances share (PostgreSQL) only this instance's running builds and those whose lease
    // expired are recovered: another live instance's builds stay running.
    virtual util::Result<int> requeue_running(int max_attempts = 3) = 0;
    // --- several instances on one database ---
    // Names this instance; claims from now on record it and a lease of identity.lease. Call before any
    // claim. Without it the instance is "" and the lease 30 s.
    virtual void set_cluster(const ClusterIdentity& identity) { (void)identity; }
    // Extends to now + lease the lease of every running build this instance claimed. The scheduler calls it
    // every cluster.heartbeat, so a live instance never loses a build.
    virtual util::Status renew_build_leases() { return {}; }
    // Re-queues, as requeue_running() does, only the running builds whose lease expired (their instance
    // died); the others are left alone. Call periodically. Returns how many went back to the queue. A store
    // only one process uses (SQLite: one serve per file) has none: 0.
    virtual util::Result<int> requeue_expired(int max_attempts) {
        (void)max_attempts;
        return 0;
    }
    // Renews this instance's lease on `build` (as claim_next_queued() or claim() returned it) and answers
    // whether the claim still holds: false when the build went back to the queue or was claimed again since
    // (this instance stalled longer than its lease and another took the build over); the caller must then
    // discard its result: push nothing, finish nothing. The stage runner asks before pushing, the scheduler
    // before finishing. A store only one process uses (SQLite) always answers true.
    virtual util::Result<bool> hold_claim(const Build& build) {
        (void)build;
        return true;
    }
    // Calls `wake` (on a thread of the store's) soon after a transaction on this database, this instance's
    // or another's, queued or re-queued a build or requested a cancel, so that a builder reacts at once
    // instead of at its next poll. An empty function stops the calls (returns once none runs). A store only
    // one process uses (SQLite) never calls it: that process wakes its scheduler itself.
    virtual void on_work(std::function<void()> wake) { (void)wake; }
    // The succeeded build of this repository + rule + ref that finished last and has a commit: what the rule's
    // tags point at now. nullopt when there is none. The stage runner compares a replayed push against it.
    virtual util::Result<std::optional<Build>> last_succeeded(const std::string& repository, std::size_t rule,
                                                              const std::string& ref) = 0;
    // The build whose record_pushed() of `image` (host/repository:tag) came last, i.e. the ref that owns the
    // tag now; nullopt when no build recorded one (or those builds were pruned).
    virtual util::Result<std::optional<Build>> last_pusher(const std::string& image) = 0;
    // Records, as soon as the registry accepted its manifest, that `image` (host/repository:tag) of this
    // running build points at `digest`, so that a build a crash interrupts later need not push (nor build)
    // it again; Build::pushed lists them. Overwrites the same image's record. not_found for an unknown build.
    virtual util::Status record_pushed(BuildId id, const std::string& image, const std::string& digest) = 0;

    // --- build reuse (pipeline/reuse.hpp) ---
    // Records the build's identity, the base images it resolved (reference → digest) and the build whose
    // image it re-tagged (0 = none), replacing an earlier record. not_found for an unknown build.
    virtual util::Status record_identity(BuildId id, const std::string& identity,
                                         const std::map<std::string, std::string>& base_images,
                                         BuildId reused_from) = 0;
    // The succeeded build with this identity and a digest that finished last; nullopt when none.
    virtual util::Result<std::optional<Build>> find_reusable(const std::string& identity) = 0;

    // --- for the API ---
    // queued → canceled at once; running → cancel_requested set (the scheduler polls it and stops the
    // build); terminal → conflict. Returns the build after the change. Repeating on a running build is a no-op.
    virtual util::Result<Build> cancel_build(BuildId id) = 0;
    // Queues a new build with the same repository, ref, commit and rule (retry_of = id). not_found for an
    // unknown id; conflict while the original is still queued or running.
    virtual util::Result<Build> retry_build(BuildId id) = 0;

    // Appends to the build's log; not_found for an unknown build. Appends are ordered per build.
    virtual util::Status append_log(BuildId id, std::string_view text) = 0;
    // Up to `max_bytes` of the log from `offset`, readable while the log grows; not_found for an unknown build.
    virtual util::Result<LogChunk> read_log(BuildId id, std::int64_t offset, std::size_t max_bytes) = 0;

    // --- outbox, for the dispatcher ---
    // Due pending notifications of at most `max_targets` targets (those whose oldest due notification is
    // oldest; none listed in `busy_targets`), at most `per_target` of each, oldest first; leased for `lease`
    // so that no other caller takes them meanwhile. Per-target limits keep one noisy receiver from
    // starving the others.
    virtual util::Result<std::vector<Notification>> claim_due_notifications(
        int max_targets, int per_target, const std::vector<std::string>& busy_targets,
        std::chrono::milliseconds lease) = 0;
    // Records one delivery attempt: delivered, or retried at `next_attempt_at`, or (0) failed for good.
    // conflict when the notification is no longer pending.
    virtual util::Status record_notification_attempt(NotificationId id, const NotificationAttempt& attempt,
                                                     bool delivered, TimeMs next_attempt_at) = 0;
    // Makes every pending notification due now, dropping leases a dead dispatcher held and waiting backoffs
    // (a restart retries at once). Call at start. On a shared database (PostgreSQL) only the leases this
    // instance held are dropped: another live instance's stay, a dead one's run out. Returns how many.
    virtual util::Result<int> release_notification_leases() = 0;
    // A build's notifications with every attempt, oldest first (empty for an unknown build).
    virtual util::Result<std::vector<Notification>> list_notifications(BuildId id) = 0;
    // Records a Docker Hub callback (state, description, context, target_url) on the build; not_found for
    // an unknown build.
    virtual util::Status add_callback(BuildId id, const BuildCallback& callback) = 0;
    // The callbacks received for a build, oldest first.
    virtual util::Result<std::vector<BuildCallback>> list_callbacks(BuildId id) = 0;

    // Removes what `policy` lets go, in batches; the last SUCCEEDED build of each repository+rule+ref and
    // builds still queued or running always stay. Then gives the space back where the store can.
    virtual util::Result<PruneResult> prune(const PrunePolicy& policy) = 0;

    // Takes the lease `name` for `holder` until now + `ttl` when nobody holds it, it expired or `holder`
    // already holds it (then it is renewed); true when `holder` holds it afterwards. Instances sharing one
    // store use it so that a job (pruning) runs once, and a crashed holder's lease runs out.
    virtual util::Result<bool> acquire_lease(const std::string& name, const std::string& holder,
                                             std::chrono::milliseconds ttl) = 0;
    // Gives up `holder`'s lease `name` (nothing when another holds it).
    virtual util::Status release_lease(const std::string& name, const std::string& holder) = 0;

    // Builds by state and stored deliveries for /metrics, from counters the store maintains as it changes:
    // cheap at any store size, never waits for the database (another instance's changes show once this
    // one has written since).
    virtual util::Result<StoreStats> stats() = 0;
    // Success when the database answers a trivial query (for /healthz).
    virtual util::Status ping() = 0;
    // Waits until every accept_delivery() submitted before the call has completed. Used at shutdown.
    virtual void flush() = 0;
};

// Opens (creating if needed) the SQLite database at `path` in WAL mode with synchronous=FULL and applies
// pending migrations. Fails with a message naming the file and the cause.
util::Result<std::unique_ptr<Store>> make_sqlite_store(const std::string& path);

// Opens the store a `storage:` config value names: "sqlite:PATH", or "postgresql://…" / "postgres://…"
// (a libpq URL; several instances may share one database), applying pending migrations; invalid_input
// naming both versions when the database is newer than this hookyard. Messages never show a password.
util::Result<std::unique_ptr<Store>> open_store(const std::string& url);

// The schema version open_store() migrates a database of that kind to ("sqlite:…" or "postgresql://…").
int schema_version_for(const std::string& url);

}  // namespace hookyard::storage
