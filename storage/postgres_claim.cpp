// Claiming on PostgreSQL: several instances may claim from one database at once. Claims take a
// transaction-level advisory lock, so "no two running builds push the same image:tag" and supersession are
// decided by one claimer at a time (a claim is a few short statements); the build itself is then locked
// with FOR UPDATE SKIP LOCKED, so a row another transaction is changing (a cancel) is passed over, not
// waited for.

#include <algorithm>
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

// Marks up to `budget` queued builds of one repository + rule + ref group that a newer build (not
// canceled) replaces; returns how many it marked, and drops the group from claim_supersede once none is
// left.
util::Result<int> supersede_group(Conn& db, const std::string& repository, std::int64_t rule, const std::string& ref,
                                  int budget) {
    auto rows = db.query(
        "SELECT a.id, n.newest FROM (SELECT MAX(id) AS newest FROM builds WHERE repository = $1 AND rule_index = $2 "
        "AND ref = $3 AND state <> 'canceled') n JOIN builds a ON a.repository = $1 AND a.rule_index = $2 AND "
        "a.ref = $3 AND a.state = 'queued' AND a.id < n.newest ORDER BY a.id LIMIT $4",
        {repository, rule, ref, budget + 1});
    if (!rows) return rows.error();
    const int marked = std::min(rows->size(), budget);
    for (int i = 0; i < marked; ++i) {
        const BuildId old_id = rows->int_at(i, 0), newest = rows->int_at(i, 1);
        if (auto st = transition(db, old_id, BuildState::superseded); !st) {
            if (st.error().kind == util::ErrorKind::conflict) continue;  // canceled meanwhile by another instance
            return st.error();
        }
        const std::string reason = "superseded by build " + std::to_string(newest) + " of a newer push";
        if (auto st =
                db.exec("UPDATE builds SET superseded_by = $1, error = $2 WHERE id = $3", {newest, reason, old_id});
            !st) {
            return st.error();
        }
    }
    if (rows->size() <= budget) {
        auto st = db.exec("DELETE FROM claim_supersede WHERE repository = $1 AND rule_index = $2 AND ref = $3",
                          {repository, rule, ref});
        if (!st) return st.error();
    }
    return marked;
}

// Marks a bounded batch of queued builds that a newer build of the same repository + rule + ref replaces,
// from the groups the triggers of migration 11 listed: never a scan of the queue.
util::Status supersede_replaced(Conn& db) {
    auto groups = db.query("SELECT repository, rule_index, ref FROM claim_supersede LIMIT $1", {k_supersede_batch});
    if (!groups) return groups.error();
    int budget = k_supersede_batch;
    for (int i = 0; i < groups->size() && budget > 0; ++i) {
        auto marked = supersede_group(db, groups->text_at(i, 0), groups->int_at(i, 1), groups->text_at(i, 2), budget);
        if (!marked) return marked.error();
        budget -= *marked;
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
    // The queue's statistics lag a burst (autovacuum analyzes it up to a minute later): with a stale row
    // count the planner reads and sorts the whole queue instead of walking the claim-order index.
    if (auto st = db.exec("SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off"); !st) return st.error();
    if (auto st = supersede_replaced(db); !st) return st.error();
    auto busy = busy_refs(db);
    if (!busy) return busy.error();
    // A queued build with a newer sibling (not canceled) is never picked, even before its supersession is
    // written: running it would push older code over a newer push's image.
    for (int offset = 0;; offset += k_candidates) {
        // A page of the queue in claim order (the partial index of migration 11), each row then checked for a
        // newer sibling: the shape keeps the planner from joining the whole queue before the LIMIT.
        auto rows = db.query(
            "SELECT a.id, a.image, a.tags, EXISTS (SELECT 1 FROM builds b WHERE b.repository = a.repository AND "
            "b.rule_index = a.rule_index AND b.ref = a.ref AND b.id > a.id AND b.state <> 'canceled') FROM (SELECT "
            "id, image, tags, repository, rule_index, ref, attempts FROM builds WHERE state = 'queued' ORDER BY "
            "attempts, id LIMIT $1 OFFSET $2) a ORDER BY a.attempts, a.id",
            {k_candidates, offset});
        if (!rows) return rows.error();
        for (int i = 0; i < rows->size(); ++i) {
            if (rows->text_at(i, 3) == "t") continue;  // replaced
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

util::Result<bool> PostgresStore::hold_claim(const Build& build) {
    return write([&]() -> util::Result<bool> {
        // Re-queueing counts an attempt, so the same instance claiming the build again is told apart too.
        auto held = m_write->query(
            "UPDATE builds SET lease_until_ms = " + std::string(k_db_now_ms) +
                " + $1 WHERE id = $2 AND state = 'running' AND instance = $3 AND attempts = $4",
            {static_cast<std::int64_t>(m_cluster.lease.count()), build.id, m_cluster.instance_id, build.attempts});
        if (!held) return held.error();
        return held->affected() > 0;
    });
}

}  // namespace hookyard::storage::postgres
