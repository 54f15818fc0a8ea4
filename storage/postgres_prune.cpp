// Retention and leases for the PostgreSQL store: candidates are read in one snapshot, then removed in short
// transactions of at most `batch` builds. PostgreSQL reuses the freed space itself (autovacuum).

#include <string>

#include "storage/postgres_store.hpp"
#include "storage/store_rules.hpp"

namespace hookyard::storage::postgres {
namespace {

// The ids as a PostgreSQL array literal, "{1,2,3}" (integers only: nothing to quote).
std::string id_array(const std::vector<BuildId>& ids) {
    std::string out = "{";
    for (auto id : ids) out += (out.size() > 1 ? "," : "") + std::to_string(id);
    return out + "}";
}

// DELETE (or, in a dry run, COUNT) the rows of `table` matching `where` (which may use $1); the number.
util::Result<std::int64_t> remove_rows(Conn& db, const std::string& table, const std::string& where, Param p,
                                       bool dry_run) {
    if (dry_run) return db.single_int("SELECT COUNT(*) FROM " + table + " WHERE " + where, {std::move(p)});
    auto rows = db.query("DELETE FROM " + table + " WHERE " + where, {std::move(p)});
    if (!rows) return rows.error();
    return static_cast<std::int64_t>(rows->affected());
}

}  // namespace

util::Result<std::int64_t> PostgresStore::prune_builds(const std::vector<BuildId>& ids, bool dry_run) {
    auto body = [&]() -> util::Result<std::int64_t> {
        std::int64_t total = 0;
        // Children first: nothing may point at a removed build. A build queued or started since the
        // candidates were read is not touched.
        const std::pair<const char*, const char*> steps[] = {
            {"notification_attempts",
             "notification_id IN (SELECT id FROM notifications WHERE build_id = ANY($1::bigint[]))"},
            {"notifications", "build_id = ANY($1::bigint[])"},
            {"build_callbacks", "build_id = ANY($1::bigint[])"},
            {"build_stages", "build_id = ANY($1::bigint[])"},
            {"build_logs", "build_id = ANY($1::bigint[])"},
            {"pushed_images", "build_id = ANY($1::bigint[])"},
            {"build_reuse", "build_id = ANY($1::bigint[])"},
            {"builds", "id = ANY($1::bigint[]) AND state NOT IN ('queued', 'running')"},
        };
        for (const auto& [table, where] : steps) {
            auto n = remove_rows(*m_write, table, where, id_array(ids), dry_run);
            if (!n) return n.error();
            total += *n;
        }
        return total;
    };
    return write(body);  // a dry run's transaction only reads
}

util::Result<std::int64_t> PostgresStore::prune_deliveries(const PrunePolicy& policy) {
    if (policy.dry_run) {
        return write(
            [&] { return remove_rows(*m_write, "deliveries", "received_ms < $1", policy.deliveries_before, true); });
    }
    const int batch = prune_batch(policy);
    const std::string where =
        "id IN (SELECT id FROM deliveries WHERE received_ms < $1 LIMIT " + std::to_string(batch) + ")";
    std::int64_t total = 0;
    for (;;) {
        auto n = write([&] { return remove_rows(*m_write, "deliveries", where, policy.deliveries_before, false); });
        if (!n) return n.error();
        total += *n;
        if (*n < batch) return total;
    }
}

util::Result<PruneResult> PostgresStore::prune(const PrunePolicy& policy) {
    // Ranked newest first per repository+rule; the last succeeded build per repository+rule+ref stays.
    auto ids = read([&]() -> util::Result<std::vector<BuildId>> {
        auto rows = m_read->query(
            "WITH ranked AS (SELECT id, state, created_ms, ROW_NUMBER() OVER (PARTITION BY repository, rule_index "
            "ORDER BY id DESC) AS rn FROM builds), last_ok AS (SELECT MAX(id) AS id FROM builds WHERE state = "
            "'succeeded' GROUP BY repository, rule_index, ref) SELECT id FROM ranked WHERE rn > $1 AND "
            "created_ms < $2 AND state NOT IN ('queued', 'running') AND id NOT IN (SELECT id FROM last_ok) "
            "ORDER BY id",
            {policy.keep_per_rule, policy.builds_before});
        if (!rows) return rows.error();
        std::vector<BuildId> out;
        for (int i = 0; i < rows->size(); ++i) out.push_back(rows->int_at(i, 0));
        return out;
    });
    if (!ids) return ids.error();
    return prune_in_batches(
        *ids, policy, [&](const std::vector<BuildId>& batch) { return prune_builds(batch, policy.dry_run); },
        [&] { return prune_deliveries(policy); });
}

util::Result<bool> PostgresStore::acquire_lease(const std::string& name, const std::string& holder,
                                                std::chrono::milliseconds ttl) {
    const TimeMs now = now_ms();
    return write([&]() -> util::Result<bool> {
        auto rows = m_write->query(
            "INSERT INTO leases (name, holder, expires_ms) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET "
            "holder = excluded.holder, expires_ms = excluded.expires_ms "
            "WHERE leases.holder = excluded.holder OR leases.expires_ms <= $4",
            {name, holder, now + static_cast<std::int64_t>(ttl.count()), now});
        if (!rows) return rows.error();
        return rows->affected() == 1;
    });
}

util::Status PostgresStore::release_lease(const std::string& name, const std::string& holder) {
    return write([&] { return m_write->exec("DELETE FROM leases WHERE name = $1 AND holder = $2", {name, holder}); });
}

}  // namespace hookyard::storage::postgres
