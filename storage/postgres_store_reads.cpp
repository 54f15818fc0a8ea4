// The PostgreSQL Store's reads (on the read connection, never behind a write), and its outbox and
// callback calls. Notification claims skip rows another instance's claim holds (FOR UPDATE SKIP LOCKED),
// so each notification goes to one dispatcher.

#include "storage/postgres_rows.hpp"
#include "storage/postgres_store.hpp"
#include "storage/store_rules.hpp"

namespace hookyard::storage::postgres {

using util::ErrorKind;
using util::make_error;
using util::Result;
using util::Status;

namespace {

const std::string k_notification_columns =
    "id, build_id, target, event, url, body, delivery, state, attempts, created_ms, next_attempt_ms, "
    "delivered_ms, last_error";

std::vector<Notification> notifications_of(const Rows& rows) {
    std::vector<Notification> out;
    for_each_row(rows, [&](Cursor& c) {
        Notification n;
        n.id = c.num(), n.build_id = c.num();
        n.target = c.text(), n.event = c.text(), n.url = c.text(), n.body = c.text(), n.delivery = c.text();
        const std::string state = c.text();
        n.state = state == "delivered" ? NotificationState::delivered
                  : state == "failed"  ? NotificationState::failed
                                       : NotificationState::pending;
        n.attempts = static_cast<int>(c.num());
        n.created_at = c.num(), n.next_attempt_at = c.num(), n.delivered_at = c.num();
        n.last_error = c.text();
        out.push_back(std::move(n));
    });
    return out;
}

}  // namespace

Result<Build> PostgresStore::get_build(BuildId id) {
    return read([&] { return load_build(*m_read, id); });
}

Result<std::vector<Build>> PostgresStore::list_builds(const BuildFilter& filter) {
    return read([&] { return load_builds(*m_read, filter); });
}

Result<std::optional<Build>> PostgresStore::last_succeeded(const std::string& repository, std::size_t rule,
                                                           const std::string& ref) {
    return first_build(
        "SELECT id FROM builds WHERE repository = $1 AND rule_index = $2 AND ref = $3 AND state = 'succeeded' "
        "AND commit_sha <> '' ORDER BY finished_ms DESC, id DESC LIMIT 1",
        {repository, rule, ref});
}

Result<std::optional<Build>> PostgresStore::last_pusher(const std::string& image) {
    return first_build("SELECT build_id FROM pushed_images WHERE image = $1 ORDER BY seq DESC LIMIT 1", {image});
}

Result<std::optional<Build>> PostgresStore::first_build(const std::string& sql, const std::vector<Param>& params) {
    return read([&]() -> Result<std::optional<Build>> {
        auto rows = m_read->query(sql, params);
        if (!rows) return rows.error();
        if (rows->empty()) return std::optional<Build>{};
        auto b = load_build(*m_read, rows->int_at(0, 0));
        if (!b) return b.error();
        return std::optional<Build>(std::move(*b));
    });
}

Result<LogChunk> PostgresStore::read_log(BuildId id, std::int64_t offset, std::size_t max_bytes) {
    offset = std::max<std::int64_t>(offset, 0);
    return read([&]() -> Result<LogChunk> {
        auto build = m_read->query("SELECT state, log_size FROM builds WHERE id = $1", {id});
        if (!build) return build.error();
        if (build->empty()) return make_error(ErrorKind::not_found, "build " + std::to_string(id) + " does not exist");
        const bool terminal = is_terminal(parse_build_state(build->text_at(0, 0)).value_or(BuildState::failed));
        const std::int64_t size = build->int_at(0, 1);
        LogChunk chunk;
        chunk.next_offset = std::min(offset, size);
        // Chunks overlapping [offset, offset + max_bytes): enough rows, never the whole log.
        auto rows = m_read->query(
            "SELECT start_byte, data FROM build_logs WHERE build_id = $1 AND start_byte + size > $2 AND "
            "start_byte < $3 ORDER BY start_byte",
            {id, offset, offset + static_cast<std::int64_t>(max_bytes)});
        if (!rows) return rows.error();
        for (int i = 0; i < rows->size() && chunk.data.size() < max_bytes; ++i) {
            append_to_chunk(chunk, rows->int_at(i, 0), rows->bytes_at(i, 1), max_bytes);
        }
        chunk.complete = terminal && chunk.next_offset >= size;
        return chunk;
    });
}

Result<std::vector<Notification>> PostgresStore::claim_due_notifications(int max_targets, int per_target,
                                                                         const std::vector<std::string>& busy_targets,
                                                                         std::chrono::milliseconds lease) {
    // "|a|b|": one text parameter instead of an array literal to quote.
    std::string busy = "|";
    for (const auto& t : busy_targets) busy += t + "|";
    const TimeMs now = now_ms();
    return write([&]() -> Result<std::vector<Notification>> {
        auto rows = m_write->query(
            "WITH due AS (SELECT id, target, next_attempt_ms FROM notifications WHERE state = 'pending' AND "
            "next_attempt_ms <= $1 AND strpos($2, '|' || target || '|') = 0 FOR UPDATE SKIP LOCKED), "
            "targets AS (SELECT target, MIN(next_attempt_ms) AS first FROM due GROUP BY target ORDER BY first "
            "LIMIT $3), ranked AS (SELECT due.id, ROW_NUMBER() OVER (PARTITION BY due.target ORDER BY "
            "due.next_attempt_ms, due.id) AS rn FROM due JOIN targets USING (target)) SELECT " +
                k_notification_columns +
                " FROM notifications WHERE id IN (SELECT id FROM ranked WHERE rn <= $4) ORDER BY next_attempt_ms, id",
            {now, busy, max_targets, per_target});
        if (!rows) return rows.error();
        auto out = notifications_of(*rows);
        for (const auto& n : out) {
            auto st = m_write->exec("UPDATE notifications SET next_attempt_ms = $1, leased_by = $2 WHERE id = $3",
                                    {now + static_cast<std::int64_t>(lease.count()), m_cluster.instance_id, n.id});
            if (!st) return st.error();
        }
        return out;
    });
}

Status PostgresStore::record_notification_attempt(NotificationId id, const NotificationAttempt& a, bool delivered,
                                                  TimeMs next_attempt_at) {
    return write([&]() -> Status {
        const char* state = delivered ? "delivered" : (next_attempt_at == 0 ? "failed" : "pending");
        auto updated = m_write->query(
            "UPDATE notifications SET attempts = attempts + 1, state = $1, next_attempt_ms = $2, delivered_ms = $3, "
            "last_error = $4, leased_by = '' WHERE id = $5 AND state = 'pending' RETURNING attempts",
            {state, next_attempt_at, delivered ? a.at : 0, a.error, id});
        if (!updated) return updated.error();
        if (updated->empty()) {
            return make_error(ErrorKind::conflict,
                              "notification " + std::to_string(id) + " is not pending (already delivered or failed)");
        }
        return m_write->exec(
            "INSERT INTO notification_attempts (notification_id, attempt, at_ms, status, latency_ms, error) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            {id, updated->int_at(0, 0), a.at, a.status, a.latency_ms, a.error});
    });
}

Result<int> PostgresStore::release_notification_leases() {
    const TimeMs now = now_ms();
    return write([&]() -> Result<int> {
        // Another live instance's leases stay: it is delivering those now. A dead one's run out by themselves.
        auto rows = m_write->query(
            "UPDATE notifications SET next_attempt_ms = $1, leased_by = '' WHERE state = 'pending' AND "
            "next_attempt_ms > $1 AND leased_by IN ('', $2)",
            {now, m_cluster.instance_id});
        if (!rows) return rows.error();
        return rows->affected();
    });
}

Result<std::vector<Notification>> PostgresStore::list_notifications(BuildId id) {
    return read([&]() -> Result<std::vector<Notification>> {
        auto rows = m_read->query(
            "SELECT " + k_notification_columns + " FROM notifications WHERE build_id = $1 ORDER BY id", {id});
        if (!rows) return rows.error();
        auto out = notifications_of(*rows);
        for (auto& n : out) {
            auto tries = query_all<NotificationAttempt>(
                *m_read,
                "SELECT attempt, at_ms, status, latency_ms, error FROM notification_attempts "
                "WHERE notification_id = $1 ORDER BY attempt",
                {n.id}, [](Cursor& c) {
                    NotificationAttempt a;
                    a.attempt = static_cast<int>(c.num()), a.at = c.num(), a.status = static_cast<int>(c.num());
                    a.latency_ms = c.num(), a.error = c.text();
                    return a;
                });
            if (!tries) return tries.error();
            n.history = std::move(*tries);
        }
        return out;
    });
}

Status PostgresStore::add_callback(BuildId id, const BuildCallback& c) {
    return write([&]() -> Status {
        if (auto b = load_build(*m_write, id); !b) return b.error();
        return m_write->exec(
            "INSERT INTO build_callbacks (build_id, received_ms, state, description, context, target_url) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            {id, c.received_at, c.state, c.description, c.context, c.target_url});
    });
}

Result<std::vector<BuildCallback>> PostgresStore::list_callbacks(BuildId id) {
    return read([&] {
        return query_all<BuildCallback>(
            *m_read,
            "SELECT received_ms, state, description, context, target_url FROM build_callbacks WHERE build_id = $1 "
            "ORDER BY received_ms, seq",
            {id}, [](Cursor& c) {
                BuildCallback cb;
                cb.received_at = c.num(), cb.state = c.text(), cb.description = c.text();
                cb.context = c.text(), cb.target_url = c.text();
                return cb;
            });
    });
}

Status PostgresStore::ping() {
    std::lock_guard lock(m_read_mutex);
    return m_read->exec("SELECT 1");
}

}  // namespace hookyard::storage::postgres
