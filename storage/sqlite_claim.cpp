#include "storage/sqlite_claim.hpp"

#include <string>
#include <utility>
#include <vector>

#include "storage/sqlite_build_rows.hpp"
#include "storage/sqlite_outbox.hpp"

namespace hookyard::storage::sqlite {
namespace {

// Supersessions written per claim: a burst of thousands of pushes to one branch is worked off over several
// claims instead of in one long write transaction that would stall the intake's group commit.
constexpr int k_supersede_batch = 256;

// A queued build `a` that may run now: no newer build of its repository + rule + ref that is not canceled
// (running it would push older code over a newer push's image), and none of its image:tag in running_refs.
// Both are index lookups; only the builds a claim actually reads get their tags parsed.
constexpr const char* k_claimable =
    "NOT EXISTS (SELECT 1 FROM builds b WHERE b.repository = a.repository AND b.rule_index = a.rule_index AND "
    "b.ref = a.ref AND b.id > a.id AND b.state != 'canceled') AND NOT EXISTS (SELECT 1 FROM json_each(CASE WHEN "
    "json_valid(a.tags) THEN a.tags ELSE '[]' END) t JOIN running_refs r ON r.ref = a.image || ':' || t.value "
    "WHERE t.type = 'text')";

// The integer in the first column of the first row of `sql` (bound to `arg` when given); 0 without a row.
util::Result<std::int64_t> claim_first_int(Db& db, const std::string& sql, std::optional<std::int64_t> arg = {}) {
    auto q = db.query(sql);
    if (!q) return q.error();
    if (arg) q->bind_all(*arg);
    auto row = q->step();
    if (!row) return row.error();
    return *row ? q->int_at(0) : 0;
}

// Works off a batch of claim_supersede, oldest first: each build still queued with a newer sibling that is
// not canceled is superseded by the newest one; every entry read leaves the table (a later insert marks again).
util::Status supersede_marked(Db& db) {
    std::vector<std::pair<BuildId, BuildId>> marked;  // (build, its newest sibling not canceled, 0 for none)
    {
        auto q = db.query(
            "SELECT s.id, CASE WHEN a.state = 'queued' THEN (SELECT b.id FROM builds b WHERE b.repository = "
            "a.repository AND b.rule_index = a.rule_index AND b.ref = a.ref AND b.state != 'canceled' ORDER BY "
            "b.id DESC LIMIT 1) ELSE 0 END FROM claim_supersede s LEFT JOIN builds a ON a.id = s.id ORDER BY s.id "
            "LIMIT ?");
        if (!q) return q.error();
        q->bind_all(k_supersede_batch);
        if (auto st = q->each_row([&] { marked.emplace_back(q->int_at(0), q->int_at(1)); }); !st) return st;
    }
    for (const auto& [old_id, newest] : marked) {
        auto del = db.query("DELETE FROM claim_supersede WHERE id = ?");
        if (!del) return del.error();
        if (auto st = del->bind_all(old_id).run(); !st) return st;
        if (newest <= old_id) continue;
        if (auto st = transition(db, old_id, BuildState::superseded); !st) return st;
        auto q = db.query("UPDATE builds SET superseded_by = ?, error = ? WHERE id = ?");
        if (!q) return q.error();
        const std::string reason = "superseded by build " + std::to_string(newest) + " of a newer push";
        if (auto st = q->bind_all(newest, reason, old_id).run(); !st) return st;
    }
    return {};
}

}  // namespace

util::Result<std::optional<BuildId>> pick_claimable(Db& db, ClaimCursor& cursor) {
    if (auto st = supersede_marked(db); !st) return st.error();
    auto generation = claim_first_int(db, "SELECT generation FROM claim_scan");
    if (!generation) return generation.error();
    if (*generation != cursor.generation) cursor = ClaimCursor{*generation, 0};
    // Fresh builds after the cursor, in id order: the index walk stops at the first claimable one, and
    // every build it passes stays held back until the generation changes.
    auto fresh =
        claim_first_int(db,
                        std::string("SELECT a.id FROM builds a WHERE a.state = 'queued' AND a.attempts = 0 AND "
                                    "a.id > ? AND ") +
                            k_claimable + " ORDER BY a.id LIMIT 1",
                        cursor.through);
    if (!fresh) return fresh.error();
    if (*fresh != 0) {
        cursor.through = *fresh;
        return std::optional<BuildId>(*fresh);
    }
    auto last = claim_first_int(db, "SELECT COALESCE(MAX(id), 0) FROM builds");
    if (!last) return last.error();
    cursor.through = *last;
    // Builds re-queued by crash recovery come after the fresh ones; they are few, so they are read whole.
    auto requeued =
        claim_first_int(db, std::string("SELECT a.id FROM builds a WHERE a.state = 'queued' AND a.attempts > 0 AND ") +
                                k_claimable + " ORDER BY a.attempts, a.id LIMIT 1");
    if (!requeued) return requeued.error();
    if (*requeued == 0) return std::optional<BuildId>{};
    return std::optional<BuildId>(*requeued);
}

util::Result<int> fail_exhausted(Db& db, int max_attempts, const EventPlanner& planner) {
    std::vector<BuildId> ids;
    {
        auto q = db.query("SELECT id FROM builds WHERE state = 'running' AND crash_streak + 1 > ?");
        if (!q) return q.error();
        q->bind_all(max_attempts);
        if (auto st = q->each_row([&] { ids.push_back(q->int_at(0)); }); !st) {
            return st.error();
        }
    }
    for (auto id : ids) {
        if (auto st = transition(db, id, BuildState::failed); !st) return st.error();
        auto q = db.query("UPDATE builds SET error = ? WHERE id = ?");
        if (!q) return q.error();
        const std::string reason = "interrupted by " + std::to_string(max_attempts + 1) +
                                   " restarts of hookyard in a row while running; not retried again (retry it by hand)";
        if (auto st = q->bind_all(reason, id).run(); !st) return st.error();
        if (auto st = queue_events(db, planner, id); !st) return st.error();
    }
    return static_cast<int>(ids.size());
}

}  // namespace hookyard::storage::sqlite
