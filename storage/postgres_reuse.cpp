// The PostgreSQL store's build-reuse records: one build_reuse row per build that computed an identity or
// opted out of reuse.

#include "storage/postgres_reuse.hpp"

#include <nlohmann/json.hpp>

#include "storage/postgres_rows.hpp"
#include "storage/postgres_store.hpp"
#include "util/json.hpp"

namespace hookyard::storage::postgres {

util::Status load_reuse(Conn& db, Build& b) {
    auto rows =
        db.query("SELECT reuse, identity, base_images, reused_from FROM build_reuse WHERE build_id = $1", {b.id});
    if (!rows) return rows.error();
    if (rows->empty()) return {};
    b.reuse = rows->int_at(0, 0) != 0;
    b.identity = rows->text_at(0, 1);
    const auto bases = nlohmann::json::parse(rows->text_at(0, 2), nullptr, false);
    if (bases.is_object()) b.base_images = bases.get<std::map<std::string, std::string>>();
    b.reused_from = rows->int_at(0, 3);
    return {};
}

util::Status insert_reuse_flag(Conn& db, BuildId id, const NewBuild& b) {
    if (b.reuse) return {};
    return db.exec("INSERT INTO build_reuse (build_id, reuse) VALUES ($1, 0)", {id});
}

util::Status PostgresStore::record_identity(BuildId id, const std::string& identity,
                                            const std::map<std::string, std::string>& base_images,
                                            BuildId reused_from) {
    return write([&]() -> util::Status {
        if (auto b = load_build(*m_write, id); !b) return b.error();
        return m_write->exec(
            "INSERT INTO build_reuse (build_id, identity, base_images, reused_from) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (build_id) DO UPDATE SET identity = excluded.identity, base_images = excluded.base_images, "
            "reused_from = excluded.reused_from",
            {id, identity, util::to_json_string(nlohmann::json(base_images)), reused_from});
    });
}

util::Result<std::optional<Build>> PostgresStore::find_reusable(const std::string& identity) {
    if (identity.empty()) return std::optional<Build>{};
    return first_build(
        "SELECT b.id FROM build_reuse r JOIN builds b ON b.id = r.build_id WHERE r.identity = $1 AND "
        "b.state = 'succeeded' AND b.digest <> '' ORDER BY b.finished_ms DESC, b.id DESC LIMIT 1",
        {identity});
}

}  // namespace hookyard::storage::postgres
