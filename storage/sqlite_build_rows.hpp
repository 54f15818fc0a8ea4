#pragma once
// Build and delivery rows ↔ records, on one connection. Callers hold the connection's lock and, for
// writes, an open transaction. Internal to the SQLite store.

#include <optional>
#include <vector>

#include "storage/records.hpp"
#include "storage/sqlite_db.hpp"

namespace hookyard::storage::sqlite {

// Inserts one queued build; returns its id.
util::Result<BuildId> insert_build(Db& db, const NewBuild& b, const std::string& delivery, BuildId retry_of);
// The build with stages; not_found when absent.
util::Result<Build> load_build(Db& db, BuildId id);
// Builds matching the filter, newest first, with stages.
util::Result<std::vector<Build>> load_builds(Db& db, const BuildFilter& filter);
// The stored build ids of a delivery, or nullopt when the delivery is unknown.
util::Result<std::optional<std::vector<BuildId>>> delivery_builds(Db& db, const std::string& id);
// Inserts the delivery row with its build ids.
util::Status insert_delivery(Db& db, const Delivery& d, const std::vector<BuildId>& builds);
// Moves a build to `to` if the state machine allows it (conflict otherwise, not_found when absent),
// setting started_ms/finished_ms as the target state implies.
util::Status transition(Db& db, BuildId id, BuildState to);

}  // namespace hookyard::storage::sqlite
