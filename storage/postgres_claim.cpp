// Claiming on PostgreSQL: several instances may claim from one database at once. Claims take a
// transaction-level advisory lock, so "no two running builds push the same image:tag" and supersession are
// decided by one claimer at a time (a claim is a few short statements); the build itself is then locked
// with FOR UPDATE SKIP LOCKED, so a row another transaction is changing (a cancel) is passed over, not
// waited for.

#include <set>

#include "storage/postgres_rows.hpp"
#include "storage/postgres_store.hpp"
#include "storage/store_rules.hpp"

namespace hookyard::storage::postgres {
namespace {

// The claimers of one database queue on this key (pg_advisory_xact_lock).
constexpr std::int64_t k_claim_lock = 0x636c61696d;  // "claim"
// Supersessions written per claim (as in SQLite): a burst is worked off over several claims.
constexpr int k_supersede_batch = 256;
// Candidates read per claim attempt.
constexpr int k_candidates = 64;

// Marks a bounded batch of queued builds that a newer build of the same repository + rule + ref replaces.
util::Status supersede_replaced(Conn& db) {
    auto rows = db.query(
        "SELECT id, newest FROM (SELECT a.id, (SELECT MAX(b.id) FROM builds b WHERE b.state <> 'canceled' AND "
        "b.repository = a.repository AND b.rule_index = a.rule_index AND b.ref = a.ref) AS newest FROM builds a "
        "WHERE a.state = 'queued') q WHERE newest > id ORDER BY id LIMIT $1",
        {k_supersede_batch});
    if (!rows) return rows.error();
    for (int i = 0; i < rows->size(); ++i) {
        const BuildId old_id = rows->int_at(i, 0), newest = rows->int_at(i, 1);
        if (auto st = transition(db, old_id, BuildState::superseded); !st) {
            if (st.error().kind == util::ErrorKind::conflict) continue;  // canceled meanwhile by another instance
            return st;
        }
        const std::string reason = "superseded by build " + std::to_string(newest) + " of a newer push";
        if (auto st =
                db.exec("UPDATE builds SET superseded_by = $1, error = $2 WHERE id = $3", {newest, reason, old_id});
            !st) {
            return st;
        }
    }
    return {};
}

// The image references running builds push.
util::Result<std::set<std::string>> busy_refs(Conn& db) {
    auto rows = db.query("SELECT image, tags FROM builds WHERE state = 'running'");
    if (!rows) return rows.error();
    std::set<std::string> busy;
    for (int i = 0; i < rows->size(); ++i) {
        for (auto& r : image_references(rows->text_at(i, 0), rows->text_at(i, 1))) busy.insert(std::move(r));
    }
    return busy;
}

// Under the claim lock: writes supersessions, then returns the first queued candidate that pushes nothing
// a running build pushes and whose row this transaction could lock; nullopt when none.
util::Result<std::optional<BuildId>> pick_claimable(Conn& db) {
    if (auto st = db.exec("SELECT pg_advisory_xact_lock($1)", {k_claim_lock}); !st) return st.error();
    if (auto st = supersede_replaced(db); !st) return st.error();
    auto busy = busy_refs(db);
    if (!busy) return busy.error();
    // A queued build with a newer sibling (not canceled) is never picked, even before its supersession is
    // written: running it would push older code over a newer push's image.
    for (int offset = 0;; offset += k_candidates) {
        auto rows = db.query(
            "SELECT a.id, a.image, a.tags FROM builds a WHERE a.state = 'queued' AND NOT EXISTS (SELECT 1 FROM "
            "builds b WHERE b.state <> 'canceled' AND b.repository = a.repository AND b.rule_index = a.rule_index "
            "AND b.ref = a.ref AND b.id > a.id) ORDER BY a.attempts, a.id LIMIT $1 OFFSET $2",
            {k_candidates, offset});
        if (!rows) return rows.error();
        for (int i = 0; i < rows->size(); ++i) {
            bool clash = false;
            for (const auto& r : image_references(rows->text_at(i, 1), rows->text_at(i, 2)))
                clash = clash || busy->count(r);
            if (clash) continue;
            auto locked = db.query("SELECT id FROM builds WHERE id = $1 AND state = 'queued' FOR UPDATE SKIP LOCKED",
                                   {rows->int_at(i, 0)});
            if (!locked) return locked.error();
            if (!locked->empty()) return std::optional<BuildId>(rows->int_at(i, 0));
        }
        if (rows->size() < k_candidates) return std::optional<BuildId>{};
    }
}

}  // namespace

util::Result<std::optional<Build>> PostgresStore::claim_next_queued() {
    return write([&]() -> util::Result<std::optional<Build>> {
        auto picked = pick_claimable(*m_write);
        if (!picked) return picked.error();
        // Without a candidate the supersessions made while picking still commit.
        if (!picked->has_value()) return std::optional<Build>{};
        auto started = start_running(**picked);
        if (!started) return started.error();
        return std::optional<Build>(std::move(*started));
    });
}

}  // namespace hookyard::storage::postgres
