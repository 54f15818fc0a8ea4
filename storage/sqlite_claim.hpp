#pragma once
// Choosing the next build to run, on one connection inside the caller's write transaction. Internal to the
// SQLite store.

#include <optional>

#include "storage/outbox.hpp"
#include "storage/sqlite_db.hpp"

namespace hookyard::storage::sqlite {

// Supersedes queued builds that a newer build (in any state but canceled) of the same repository + rule + ref
// replaces
// (superseded_by = the newest; at most a bounded batch per call, oldest first — the rest on later calls, and
// none of them is ever picked meanwhile), then returns the oldest queued build none of whose image references
// (image:tag) is being pushed by a running build, fewest crash interruptions first; nullopt when there is none.
util::Result<std::optional<BuildId>> pick_claimable(Db& db);

// Running builds that crash recovery may not re-queue again (found running at max_attempts + 1 recoveries
// in a row: crash_streak + 1 > max_attempts) are failed with
// the reason, their events queued with `planner`; returns how many.
util::Result<int> fail_exhausted(Db& db, int max_attempts, const EventPlanner& planner);

}  // namespace hookyard::storage::sqlite
