#pragma once
// The PostgreSQL Store: one write connection (the group-commit thread and the synchronous writes, under
// m_write_mutex) and one read connection (under m_read_mutex), like the SQLite store. Several hookyard
// instances may share one database: deliveries are idempotent on their id across instances (INSERT … ON
// CONFLICT), claims are serialised by an advisory lock and lock their row with FOR UPDATE SKIP LOCKED,
// notification claims skip rows another instance holds. Internal to storage/: callers use open_store().

#include "storage/postgres_conn.hpp"
#include "storage/postgres_listen.hpp"
#include "storage/store_base.hpp"

namespace hookyard::storage::postgres {

class PostgresStore final : public StoreBase<Conn> {
public:
    using StoreBase::StoreBase;
    ~PostgresStore() override;

    // The scheduler's side: claims and crash recovery (postgres_claim.cpp, postgres_store.cpp).
    util::Result<std::optional<Build>> claim_next_queued() override;
    util::Result<Build> claim(BuildId id) override;
    util::Result<int> requeue_running(int max_attempts) override;
    util::Status renew_build_leases() override;
    util::Result<bool> hold_claim(const Build& build) override;
    util::Result<int> requeue_expired(int max_attempts) override;
    void on_work(std::function<void()> wake) override;
    // The database on_work() listens to (make_postgres_store sets it).
    void set_listen_url(std::string url) { m_listen_url = std::move(url); }
    util::Status set_commit(BuildId id, const std::string& sha) override;
    util::Status set_tags(BuildId id, const std::vector<std::string>& tags,
                          const std::vector<std::string>& sanitized_tags) override;
    util::Status start_stage(BuildId id, const std::string& name) override;
    util::Status finish_stage(BuildId id, const std::string& name, BuildState result,
                              const std::string& error) override;
    util::Status record_pushed(BuildId id, const std::string& image, const std::string& digest) override;
    // Build reuse (postgres_reuse.cpp).
    util::Status record_identity(BuildId id, const std::string& identity,
                                 const std::map<std::string, std::string>& base_images, BuildId reused_from) override;
    util::Result<std::optional<Build>> find_reusable(const std::string& identity) override;
    util::Status finish_build(BuildId id, BuildState terminal, const std::string& digest,
                              const std::string& error) override;
    util::Status append_log(BuildId id, std::string_view text) override;

    // Intake and the API's writes (postgres_store.cpp).
    util::Result<std::vector<Build>> insert_builds(std::vector<NewBuild> builds) override;
    util::Result<Build> retry_build(BuildId id) override;
    util::Result<Build> cancel_build(BuildId id) override;

    // Reads, on the read connection (postgres_store_reads.cpp).
    util::Result<Build> get_build(BuildId id) override;
    util::Result<std::optional<Build>> last_pusher(const std::string& image) override;
    util::Result<std::optional<Build>> last_succeeded(const std::string& repository, std::size_t rule,
                                                      const std::string& ref) override;
    util::Result<std::vector<Build>> list_builds(const BuildFilter& filter) override;
    util::Result<LogChunk> read_log(BuildId id, std::int64_t offset, std::size_t max_bytes) override;
    util::Status ping() override;

    // The outbox and callbacks (postgres_store_reads.cpp).
    util::Result<int> release_notification_leases() override;
    util::Result<std::vector<Notification>> claim_due_notifications(int max_targets, int per_target,
                                                                    const std::vector<std::string>& busy_targets,
                                                                    std::chrono::milliseconds lease) override;
    util::Status record_notification_attempt(NotificationId id, const NotificationAttempt& attempt, bool delivered,
                                             TimeMs next_attempt_at) override;
    util::Status add_callback(BuildId id, const BuildCallback& callback) override;
    util::Result<std::vector<BuildCallback>> list_callbacks(BuildId id) override;
    util::Result<std::vector<Notification>> list_notifications(BuildId id) override;

    // Leases and retention (postgres_prune.cpp).
    util::Result<bool> acquire_lease(const std::string& name, const std::string& holder,
                                     std::chrono::milliseconds ttl) override;
    util::Status release_lease(const std::string& name, const std::string& holder) override;
    util::Result<PruneResult> prune(const PrunePolicy& policy) override;

private:
    std::string m_listen_url;
    std::mutex m_listener_mutex;
    std::unique_ptr<Listener> m_listener;  // guarded by m_listener_mutex; null while nobody listens
    // `fn()` in one transaction on the write connection, under its lock; then the counters are re-read.
    template <class F>
    std::invoke_result_t<F&> write(F&& fn) {
        std::lock_guard lock(m_write_mutex);
        // Destroyed before the lock: the counters are re-read after the transaction, still under it.
        struct RefreshAfter {
            PostgresStore* store;
            ~RefreshAfter() { store->refresh_counts(); }
        } refresh{this};
        return m_write->transaction(fn);
    }
    // `fn()` on the read connection, in one read-only transaction (one snapshot), under its lock.
    template <class F>
    std::invoke_result_t<F&> read(F&& fn) {
        std::lock_guard lock(m_read_mutex);
        return m_read->transaction(fn);
    }
    void refresh_counts() override;
    // In the write transaction: recovers the running builds whose lease expired, and with `own_too` those
    // this instance claimed; returns how many went back to the queue.
    util::Result<int> recover_running(bool own_too, int max_attempts, const std::string& why);
    // In the write transaction: fails the build's open stages with `why` and re-queues it (true), or fails
    // it when it was found running max_attempts + 1 times in a row (false).
    util::Result<bool> recover_build(BuildId id, int max_attempts, const std::string& why);
    // In the write transaction: conflict when build `id` runs on another instance (this one lost its lease
    // on it); locks the build's row until the transaction ends.
    util::Status check_not_taken_over(BuildId id);
    // In the write transaction: queues the events of a build that just changed state (build.queued for a
    // new one) and returns it as stored.
    util::Result<Build> queued_build(BuildId id);
    // In the write transaction: queued → running, with its events; the build as stored.
    util::Result<Build> start_running(BuildId id);
    util::Result<std::optional<Build>> first_build(const std::string& sql, const std::vector<Param>& params);
    util::Result<AcceptOutcome> accept_one(const PendingAccept& p);
    std::vector<util::Result<AcceptOutcome>> commit_accepts(const std::vector<PendingAccept>& batch) override;
    util::Result<std::int64_t> prune_builds(const std::vector<BuildId>& ids, bool dry_run);
    util::Result<std::int64_t> prune_deliveries(const PrunePolicy& policy);
};

// Connects twice to `url` and applies pending migrations. Errors name the URL with its password redacted.
util::Result<std::unique_ptr<Store>> make_postgres_store(const std::string& url);

}  // namespace hookyard::storage::postgres
