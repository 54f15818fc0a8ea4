// Retention for the SQLite store: candidates are chosen on the read connection (no lock held against
// intake), then removed in short write transactions of at most `batch` builds, then the space is given back.

#include <string>

#include "storage/sqlite_store.hpp"
#include "storage/store_rules.hpp"

namespace hookyard::storage::sqlite {
namespace {

// Integers only, so building the list into the SQL text is safe.
std::string id_list(const std::vector<BuildId>& ids) {
    std::string out;
    for (auto id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
    return out;
}

// DELETE (or, in a dry run, COUNT) `where` on `table`; the number of rows.
util::Result<std::int64_t> remove(Db& db, const std::string& table, const std::string& where, bool dry_run) {
    if (dry_run) {
        auto q = db.query("SELECT COUNT(*) FROM " + table + " WHERE " + where);
        if (!q) return q.error();
        auto row = q->step();
        if (!row) return row.error();
        return q->int_at(0);
    }
    if (auto st = db.exec("DELETE FROM " + table + " WHERE " + where); !st) return st.error();
    return static_cast<std::int64_t>(db.changes());
}

}  // namespace

util::Result<std::vector<BuildId>> SqliteStore::prunable_builds(const PrunePolicy& policy) {
    std::lock_guard lock(m_read_mutex);
    return m_read->read([&]() -> util::Result<std::vector<BuildId>> {
        // Ranked newest first per repository+rule; the last succeeded build per repository+rule+ref stays
        // because rebuilds and build reuse start from it.
        auto q = m_read->query(R"sql(
WITH ranked AS (
    SELECT id, state, created_ms,
           ROW_NUMBER() OVER (PARTITION BY repository, rule_index ORDER BY id DESC) AS rn
    FROM builds),
last_ok AS (
    SELECT MAX(id) AS id FROM builds WHERE state = 'succeeded' GROUP BY repository, rule_index, ref)
SELECT id FROM ranked
WHERE rn > ? AND created_ms < ? AND state NOT IN ('queued', 'running')
  AND id NOT IN (SELECT id FROM last_ok)
ORDER BY id)sql");
        if (!q) return q.error();
        q->bind_all(policy.keep_per_rule, policy.builds_before);
        std::vector<BuildId> ids;
        for (;;) {
            auto row = q->step();
            if (!row) return row.error();
            if (!*row) break;
            ids.push_back(q->int_at(0));
        }
        return ids;
    });
}

util::Result<std::int64_t> SqliteStore::prune_builds(const std::vector<BuildId>& ids, bool dry_run) {
    const std::string in = "(" + id_list(ids) + ")";
    auto body = [&]() -> util::Result<std::int64_t> {
        std::int64_t rows = 0;
        // Children first: nothing may point at a removed build.
        const std::pair<const char*, std::string> steps[] = {
            {"notification_attempts", "notification_id IN (SELECT id FROM notifications WHERE build_id IN " + in + ")"},
            {"notifications", "build_id IN " + in},
            {"build_callbacks", "build_id IN " + in},
            {"build_stages", "build_id IN " + in},
            {"build_logs", "build_id IN " + in},
            {"pushed_images", "build_id IN " + in},
            {"build_reuse", "build_id IN " + in},
            // A build queued or started since the candidates were read is not touched.
            {"builds", "id IN " + in + " AND state NOT IN ('queued', 'running')"},
        };
        for (const auto& [table, where] : steps) {
            auto n = remove(*m_write, table, where, dry_run);
            if (!n) return n.error();
            rows += *n;
        }
        return rows;
    };
    if (dry_run) {
        std::lock_guard lock(m_write_mutex);
        return body();
    }
    return write(body);
}

util::Result<std::int64_t> SqliteStore::prune_deliveries(const PrunePolicy& policy) {
    const int batch = prune_batch(policy);
    const std::string where = "rowid IN (SELECT rowid FROM deliveries WHERE received_ms < " +
                              std::to_string(policy.deliveries_before) + " LIMIT " + std::to_string(batch) + ")";
    if (policy.dry_run) {
        std::lock_guard lock(m_write_mutex);
        return remove(*m_write, "deliveries", "received_ms < " + std::to_string(policy.deliveries_before), true);
    }
    std::int64_t total = 0;
    for (;;) {
        auto n = write([&] { return remove(*m_write, "deliveries", where, false); });
        if (!n) return n.error();
        total += *n;
        if (*n < batch) return total;
    }
}

util::Result<PruneResult> SqliteStore::prune(const PrunePolicy& policy) {
    auto ids = prunable_builds(policy);
    if (!ids) return ids.error();
    auto result = prune_in_batches(
        *ids, policy, [&](const std::vector<BuildId>& batch) { return prune_builds(batch, policy.dry_run); },
        [&] { return prune_deliveries(policy); });
    if (!result) return result;
    if (!policy.dry_run) {
        std::lock_guard lock(m_write_mutex);
        const auto paused = m_checkpointer ? m_checkpointer->pause() : std::unique_lock<std::mutex>();
        // incremental_vacuum is a no-op unless auto_vacuum=incremental; the checkpoint shrinks the WAL.
        (void)m_write->exec("PRAGMA incremental_vacuum");
        (void)m_write->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    return result;
}

util::Result<bool> SqliteStore::acquire_lease(const std::string& name, const std::string& holder,
                                              std::chrono::milliseconds ttl) {
    return write([&]() -> util::Result<bool> {
        const TimeMs now = now_ms();
        auto q = m_write->query(
            "INSERT INTO leases (name, holder, expires_ms) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "holder = excluded.holder, expires_ms = excluded.expires_ms "
            "WHERE leases.holder = excluded.holder OR leases.expires_ms <= ?");
        if (!q) return q.error();
        if (auto st = q->bind_all(name, holder, now + ttl.count(), now).run(); !st) return st.error();
        return m_write->changes() == 1;
    });
}

util::Status SqliteStore::release_lease(const std::string& name, const std::string& holder) {
    return write([&]() -> util::Status {
        auto q = m_write->query("DELETE FROM leases WHERE name = ? AND holder = ?");
        if (!q) return q.error();
        return q->bind_all(name, holder).run();
    });
}

}  // namespace hookyard::storage::sqlite
