#pragma once
// The SQLite Store: one write connection (used by the group-commit writer thread and by the synchronous
// writes, under m_write_mutex) and one read connection (under m_read_mutex), so reads never wait for an
// fsync. WAL mode keeps readers and the writer apart. Internal to storage/: callers use make_sqlite_store().

#include <mutex>

#include "storage/sqlite_checkpointer.hpp"
#include "storage/sqlite_claim.hpp"
#include "storage/sqlite_db.hpp"
#include "storage/store_base.hpp"

namespace hookyard::storage::sqlite {

class SqliteStore final : public StoreBase<Db> {
public:
    using StoreBase::StoreBase;
    ~SqliteStore() override;
    // Moves WAL checkpoints to a thread with connection `own` (sqlite_checkpointer.hpp). Call once, before use.
    void checkpoint_in_background(std::unique_ptr<Db> own);

    // Builds (sqlite_store.cpp).
    util::Result<std::vector<Build>> insert_builds(std::vector<NewBuild> builds) override;
    util::Result<std::optional<Build>> claim_next_queued() override;
    util::Result<Build> claim(BuildId id) override;
    util::Status set_commit(BuildId id, const std::string& sha) override;
    util::Status set_tags(BuildId id, const std::vector<std::string>& tags,
                          const std::vector<std::string>& sanitized_tags) override;
    util::Status start_stage(BuildId id, const std::string& name) override;
    util::Status finish_stage(BuildId id, const std::string& name, BuildState result,
                              const std::string& error) override;
    util::Status finish_build(BuildId id, BuildState terminal, const std::string& digest,
                              const std::string& error) override;
    util::Result<int> requeue_running(int max_attempts) override;
    util::Status record_pushed(BuildId id, const std::string& image, const std::string& digest) override;
    // Build reuse (sqlite_reuse.cpp).
    util::Status record_identity(BuildId id, const std::string& identity,
                                 const std::map<std::string, std::string>& base_images, BuildId reused_from) override;
    util::Result<std::optional<Build>> find_reusable(const std::string& identity) override;
    util::Result<Build> cancel_build(BuildId id) override;
    util::Result<Build> retry_build(BuildId id) override;
    util::Status append_log(BuildId id, std::string_view text) override;

    // Reads, outbox and callbacks (sqlite_store_reads.cpp).
    util::Result<Build> get_build(BuildId id) override;
    util::Result<std::vector<Build>> list_builds(const BuildFilter& filter) override;
    util::Result<std::optional<Build>> last_succeeded(const std::string& repository, std::size_t rule,
                                                      const std::string& ref) override;
    util::Result<std::optional<Build>> last_pusher(const std::string& image) override;
    util::Result<LogChunk> read_log(BuildId id, std::int64_t offset, std::size_t max_bytes) override;
    util::Result<std::vector<Notification>> claim_due_notifications(int max_targets, int per_target,
                                                                    const std::vector<std::string>& busy_targets,
                                                                    std::chrono::milliseconds lease) override;
    util::Status record_notification_attempt(NotificationId id, const NotificationAttempt& attempt, bool delivered,
                                             TimeMs next_attempt_at) override;
    util::Result<int> release_notification_leases() override;
    util::Result<std::vector<Notification>> list_notifications(BuildId id) override;
    util::Status add_callback(BuildId id, const BuildCallback& callback) override;
    util::Result<std::vector<BuildCallback>> list_callbacks(BuildId id) override;
    // Retention (sqlite_prune.cpp).
    util::Result<PruneResult> prune(const PrunePolicy& policy) override;
    util::Result<bool> acquire_lease(const std::string& name, const std::string& holder,
                                     std::chrono::milliseconds ttl) override;
    util::Status release_lease(const std::string& name, const std::string& holder) override;
    util::Status ping() override;

private:
    // `fn()` in one write transaction on the write connection, under its lock.
    template <class F>
    std::invoke_result_t<F&> write(F&& fn) {
        std::lock_guard lock(m_write_mutex);
        auto out = m_write->write(fn);
        refresh_counts();
        return out;
    }
    // `fn()` in one write transaction that commits without an fsync (synchronous=NORMAL for it alone): a
    // log batch then holds the write lock that webhook intake's group commit needs for microseconds, not
    // for a flush of the disk. It is durable once the next synced commit flushes the WAL (a kill -9 loses
    // nothing committed; a power loss may lose these batches, never an accepted delivery). Changes no
    // counter.
    template <class F>
    std::invoke_result_t<F&> write_unsynced(F&& fn) {
        std::lock_guard lock(m_write_mutex);
        if (auto st = m_write->exec("PRAGMA synchronous=NORMAL"); !st) return st.error();
        auto out = m_write->write(fn);
        // Every other write must stay synced: a failure to switch back is this call's error.
        if (auto st = m_write->exec("PRAGMA synchronous=FULL"); !st) return st.error();
        return out;
    }
    void refresh_counts() override;
    // In the write transaction: queued → running for this instance, with its events.
    util::Status start_running(BuildId id);
    util::Result<std::vector<BuildId>> prunable_builds(const PrunePolicy& policy);
    util::Result<std::int64_t> prune_builds(const std::vector<BuildId>& ids, bool dry_run);
    util::Result<std::int64_t> prune_deliveries(const PrunePolicy& policy);
    // The build whose id the prepared single-column `q` returns first, nullopt when none; under m_read_mutex.
    util::Result<std::optional<Build>> first_build_locked(Stmt& q);
    util::Result<LogChunk> read_log_locked(BuildId id, std::int64_t offset, std::size_t max_bytes);
    util::Result<AcceptOutcome> accept_one(const PendingAccept& p);
    std::vector<util::Result<AcceptOutcome>> commit_accepts(const std::vector<PendingAccept>& batch) override;

    std::unique_ptr<WalCheckpointer> m_checkpointer;  // null until checkpoint_in_background()
    std::mutex m_claim_mutex;                         // one claim at a time, so the cursor follows the committed claims
    ClaimCursor m_claim_cursor;                       // guarded by m_claim_mutex
};

}  // namespace hookyard::storage::sqlite
