#pragma once
// Build-reuse rows (table build_reuse, migration 9) on one SQLite connection. Callers hold the connection's
// lock and, for writes, an open transaction. Internal to the SQLite store.

#include "storage/records.hpp"
#include "storage/sqlite_db.hpp"

namespace hookyard::storage::sqlite {

// Fills b.identity, b.base_images, b.reused_from and b.reuse from the build's row (defaults without one).
util::Status load_reuse(Db& db, Build& b);
// Records that build `id` (just inserted from `b`) must not reuse, when b.reuse is false.
util::Status insert_reuse_flag(Db& db, BuildId id, const NewBuild& b);

}  // namespace hookyard::storage::sqlite
