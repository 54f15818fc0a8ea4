#include "storage/sqlite_claim.hpp"

#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "storage/sqlite_build_rows.hpp"
#include "storage/sqlite_outbox.hpp"
#include "storage/store_rules.hpp"

namespace hookyard::storage::sqlite {
namespace {

// Supersessions written per claim: a burst of thousands of pushes to one branch is worked off over several
// claims instead of in one long write transaction that would stall the intake's group commit.
constexpr int k_supersede_batch = 256;

}  // namespace

util::Result<std::optional<BuildId>> pick_claimable(Db& db) {
    std::vector<std::pair<BuildId, BuildId>> superseded;  // (old, newest)
    {
        auto q = db.query(
            "SELECT a.id, (SELECT MAX(b.id) FROM builds b WHERE b.state != 'canceled' AND b.repository = a.repository "
            "AND b.rule_index = a.rule_index AND b.ref = a.ref) AS newest FROM builds a WHERE a.state = 'queued' "
            "AND newest > a.id ORDER BY a.id LIMIT ?");
        if (!q) return q.error();
        q->bind_all(k_supersede_batch);
        if (auto st = q->each_row([&] { superseded.emplace_back(q->int_at(0), q->int_at(1)); }); !st) {
            return st.error();
        }
    }
    for (const auto& [old_id, newest] : superseded) {
        if (auto st = transition(db, old_id, BuildState::superseded); !st) return st.error();
        auto q = db.query("UPDATE builds SET superseded_by = ?, error = ? WHERE id = ?");
        if (!q) return q.error();
        const std::string reason = "superseded by build " + std::to_string(newest) + " of a newer push";
        if (auto st = q->bind_all(newest, reason, old_id).run(); !st) return st.error();
    }

    std::set<std::string> busy;
    {
        auto q = db.query("SELECT image, tags FROM builds WHERE state = 'running'");
        if (!q) return q.error();
        if (auto st = q->each_row([&] {
                for (auto& r : image_references(q->text_at(0), q->text_at(1))) busy.insert(std::move(r));
            });
            !st) {
            return st.error();
        }
    }
    // A queued build with a newer sibling (queued, running or finished; not canceled) is never picked, even
    // before its supersession is written: running it would push older code over a newer push's image.
    auto q = db.query(
        "SELECT a.id, a.image, a.tags FROM builds a WHERE a.state = 'queued' AND NOT EXISTS "
        "(SELECT 1 FROM builds b WHERE b.state != 'canceled' AND b.repository = a.repository AND "
        "b.rule_index = a.rule_index AND b.ref = a.ref AND b.id > a.id) ORDER BY a.attempts, a.id");
    if (!q) return q.error();
    for (;;) {
        auto row = q->step();
        if (!row) return row.error();
        if (!*row) return std::optional<BuildId>{};
        bool clash = false;
        for (const auto& r : image_references(q->text_at(1), q->text_at(2))) clash = clash || busy.count(r) > 0;
        if (!clash) return std::optional<BuildId>(q->int_at(0));
    }
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
