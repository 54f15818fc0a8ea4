#pragma once
// Choosing the next build to run, on one connection inside the caller's write transaction. Internal to the
// SQLite store.

#include <cstdint>
#include <optional>

#include "storage/outbox.hpp"
#include "storage/sqlite_db.hpp"

namespace hookyard::storage::sqlite {

// Where the last claim's scan of fresh queued builds (attempts = 0, in id order) stopped: under claim_scan's
// `generation`, every fresh queued build with id <= `through` is held back (it pushes an image:tag a running
// build pushes, or a newer build of its repository + rule + ref exists). Claims only add running builds, so
// that stays true until a change bumps the generation; the next claim then reads only the builds after it.
struct ClaimCursor {
    std::int64_t generation = -1;  // -1: none yet, scan from the start
    BuildId through = 0;
};

// Supersedes queued builds that a newer build (in any state but canceled) of the same repository + rule + ref
// replaces
// (superseded_by = the newest; at most a bounded batch per call, oldest first — the rest on later calls, and
// none of them is ever picked meanwhile), then returns the oldest queued build none of whose image references
// (image:tag) is being pushed by a running build, fewest crash interruptions first; nullopt when there is none.
// Reads from `cursor` and updates it; the caller keeps the update only when its transaction commits. The
// work done does not grow with the number of queued builds held back.
util::Result<std::optional<BuildId>> pick_claimable(Db& db, ClaimCursor& cursor);

// Running builds that crash recovery may not re-queue again (found running at max_attempts + 1 recoveries
// in a row: crash_streak + 1 > max_attempts) are failed with
// the reason, their events queued with `planner`; returns how many.
util::Result<int> fail_exhausted(Db& db, int max_attempts, const EventPlanner& planner);

}  // namespace hookyard::storage::sqlite
