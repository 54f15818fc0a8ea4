// The SQLite store's build-reuse records: one build_reuse row per build that computed an identity or
// opted out of reuse.

#include "storage/sqlite_reuse.hpp"

#include <nlohmann/json.hpp>

#include "storage/sqlite_build_rows.hpp"
#include "storage/sqlite_store.hpp"
#include "util/json.hpp"

namespace hookyard::storage::sqlite {

util::Status load_reuse(Db& db, Build& b) {
    auto q = db.query("SELECT reuse, identity, base_images, reused_from FROM build_reuse WHERE build_id = ?");
    if (!q) return q.error();
    q->bind_all(b.id);
    auto row = q->step();
    if (!row) return row.error();
    if (!*row) return {};
    b.reuse = q->int_at(0) != 0;
    b.identity = q->text_at(1);
    const auto bases = nlohmann::json::parse(q->text_at(2), nullptr, false);
    if (bases.is_object()) b.base_images = bases.get<std::map<std::string, std::string>>();
    b.reused_from = q->int_at(3);
    return {};
}

util::Status insert_reuse_flag(Db& db, BuildId id, const NewBuild& b) {
    if (b.reuse) return {};
    auto q = db.query("INSERT INTO build_reuse (build_id, reuse) VALUES (?, 0)");
    if (!q) return q.error();
    return q->bind_all(id).run();
}

util::Status SqliteStore::record_identity(BuildId id, const std::string& identity,
                                          const std::map<std::string, std::string>& base_images, BuildId reused_from) {
    return write([&]() -> util::Status {
        if (auto b = load_build(*m_write, id); !b) return b.error();
        auto q = m_write->query(
            "INSERT INTO build_reuse (build_id, identity, base_images, reused_from) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (build_id) DO UPDATE SET identity = excluded.identity, base_images = excluded.base_images, "
            "reused_from = excluded.reused_from");
        if (!q) return q.error();
        return q->bind_all(id, identity, util::to_json_string(nlohmann::json(base_images)), reused_from).run();
    });
}

util::Result<std::optional<Build>> SqliteStore::find_reusable(const std::string& identity) {
    if (identity.empty()) return std::optional<Build>{};
    std::lock_guard lock(m_read_mutex);
    auto q = m_read->query(
        "SELECT b.id FROM build_reuse r JOIN builds b ON b.id = r.build_id WHERE r.identity = ? AND "
        "b.state = 'succeeded' AND b.digest != '' ORDER BY b.finished_ms DESC, b.id DESC LIMIT 1");
    if (!q) return q.error();
    q->bind_all(identity);
    return first_build_locked(*q);
}

}  // namespace hookyard::storage::sqlite
