#pragma once
// Build-reuse rows (table build_reuse, migration 9) on one PostgreSQL connection. Callers hold the
// connection's lock and, for writes, an open transaction. Internal to the PostgreSQL store.

#include "storage/postgres_conn.hpp"
#include "storage/records.hpp"

namespace hookyard::storage::postgres {

// Fills b.identity, b.base_images, b.reused_from and b.reuse from the build's row (defaults without one).
util::Status load_reuse(Conn& db, Build& b);
// Records that build `id` (just inserted from `b`) must not reuse, when b.reuse is false.
util::Status insert_reuse_flag(Conn& db, BuildId id, const NewBuild& b);

}  // namespace hookyard::storage::postgres
