// The SQLite Store's reads (on the read connection, never waiting for an fsync), and its outbox and
// callback calls.

#include "storage/sqlite_build_rows.hpp"
#include "storage/sqlite_outbox.hpp"
#include "storage/sqlite_store.hpp"
#include "storage/store_rules.hpp"

namespace hookyard::storage::sqlite {

using util::ErrorKind;
using util::make_error;
using util::Result;
using util::Status;

Result<Build> SqliteStore::get_build(BuildId id) {
    std::lock_guard lock(m_read_mutex);
    return load_build(*m_read, id);
}

Result<std::vector<Build>> SqliteStore::list_builds(const BuildFilter& filter) {
    std::lock_guard lock(m_read_mutex);
    // One read transaction so the builds and their stages are one snapshot.
    return m_read->read([&] { return load_builds(*m_read, filter); });
}

Result<std::optional<Build>> SqliteStore::last_succeeded(const std::string& repository, std::size_t rule,
                                                         const std::string& ref) {
    std::lock_guard lock(m_read_mutex);
    auto q = m_read->query(
        "SELECT id FROM builds WHERE repository = ? AND rule_index = ? AND ref = ? AND state = 'succeeded' "
        "AND commit_sha != '' ORDER BY finished_ms DESC, id DESC LIMIT 1");
    if (!q) return q.error();
    q->bind_all(repository, rule, ref);
    return first_build_locked(*q);
}

Result<std::optional<Build>> SqliteStore::last_pusher(const std::string& image) {
    std::lock_guard lock(m_read_mutex);
    auto q = m_read->query("SELECT build_id FROM pushed_images WHERE image = ? ORDER BY rowid DESC LIMIT 1");
    if (!q) return q.error();
    q->bind_all(image);
    return first_build_locked(*q);
}

Result<std::optional<Build>> SqliteStore::first_build_locked(Stmt& q) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) return std::optional<Build>{};
    const BuildId id = q.int_at(0);
    auto b = load_build(*m_read, id);
    if (!b) return b.error();
    return std::optional<Build>(std::move(*b));
}

Result<LogChunk> SqliteStore::read_log(BuildId id, std::int64_t offset, std::size_t max_bytes) {
    std::lock_guard lock(m_read_mutex);
    return m_read->read([&] { return read_log_locked(id, std::max<std::int64_t>(offset, 0), max_bytes); });
}

Result<LogChunk> SqliteStore::read_log_locked(BuildId id, std::int64_t offset, std::size_t max_bytes) {
    auto b = m_read->query("SELECT state, log_size FROM builds WHERE id = ?");
    if (!b) return b.error();
    b->bind_all(id);
    auto row = b->step();
    if (!row) return row.error();
    if (!*row) return make_error(ErrorKind::not_found, "build " + std::to_string(id) + " does not exist");
    const bool terminal = is_terminal(parse_build_state(b->text_at(0)).value_or(BuildState::failed));
    const std::int64_t size = b->int_at(1);
    LogChunk chunk;
    chunk.next_offset = std::min(offset, size);
    auto q = m_read->query(
        "SELECT offset, data FROM build_logs WHERE build_id = ? AND offset + size > ? "
        "ORDER BY offset");
    if (!q) return q.error();
    q->bind_all(id, offset);
    while (chunk.data.size() < max_bytes) {
        auto r = q->step();
        if (!r) return r.error();
        if (!*r) break;
        append_to_chunk(chunk, q->int_at(0), q->text_at(1), max_bytes);
    }
    chunk.complete = terminal && chunk.next_offset >= size;
    return chunk;
}

Result<std::vector<Notification>> SqliteStore::claim_due_notifications(int max_targets, int per_target,
                                                                       const std::vector<std::string>& busy_targets,
                                                                       std::chrono::milliseconds lease) {
    return write([&] {
        return sqlite::claim_due_notifications(*m_write, now_ms(), lease.count(), max_targets, per_target,
                                               busy_targets);
    });
}

Status SqliteStore::record_notification_attempt(NotificationId id, const NotificationAttempt& attempt, bool delivered,
                                                TimeMs next_attempt_at) {
    return write([&] { return record_attempt(*m_write, id, attempt, delivered, next_attempt_at); });
}

Result<int> SqliteStore::release_notification_leases() {
    std::lock_guard lock(m_write_mutex);
    auto q = m_write->query(
        "UPDATE notifications SET next_attempt_ms = ? WHERE state = 'pending' AND "
        "next_attempt_ms > ?");
    if (!q) return q.error();
    const TimeMs now = now_ms();
    if (auto st = q->bind_all(now, now).run(); !st) return st.error();
    return m_write->changes();
}

Result<std::vector<Notification>> SqliteStore::list_notifications(BuildId id) {
    std::lock_guard lock(m_read_mutex);
    return m_read->read([&] { return load_notifications(*m_read, id); });
}

Status SqliteStore::add_callback(BuildId id, const BuildCallback& callback) {
    std::lock_guard lock(m_write_mutex);
    return insert_callback(*m_write, id, callback);
}

Result<std::vector<BuildCallback>> SqliteStore::list_callbacks(BuildId id) {
    std::lock_guard lock(m_read_mutex);
    return load_callbacks(*m_read, id);
}

Status SqliteStore::ping() {
    std::lock_guard lock(m_read_mutex);
    auto q = m_read->query("SELECT COUNT(*) FROM schema_migrations");
    if (!q) return q.error();
    auto row = q->step();
    if (!row) return row.error();
    return {};
}

}  // namespace hookyard::storage::sqlite
