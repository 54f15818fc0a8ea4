#pragma once
// Build, delivery and outbox rows ↔ records on one PostgreSQL connection. Callers hold the connection's
// lock and, for writes, an open transaction. Internal to the PostgreSQL store.

#include <optional>
#include <vector>

#include "storage/outbox.hpp"
#include "storage/postgres_conn.hpp"
#include "storage/records.hpp"

namespace hookyard::storage::postgres {

// The database's clock in unix ms, as SQL: build leases are set and checked against it, so instances on
// several machines need not agree on the time.
constexpr const char* k_db_now_ms = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

// Inserts one queued build and returns it as load_build() would (read back by the INSERT itself: a new
// build has no stages or pushes yet). No NOTIFY: the caller sends one per transaction (notify_work()).
util::Result<Build> insert_build(Conn& db, const NewBuild& b, const std::string& delivery, BuildId retry_of);
// The build with stages and pushed images; not_found when absent.
util::Result<Build> load_build(Conn& db, BuildId id);
// Builds matching the filter, newest first, with stages and pushed images.
util::Result<std::vector<Build>> load_builds(Conn& db, const BuildFilter& filter);
// Inserts the delivery row unless its id is stored (then waits for a concurrent inserter's commit) and
// returns true when this call inserted it.
util::Result<bool> claim_delivery(Conn& db, const Delivery& d);
// The stored build ids of a delivery (empty when unknown).
util::Result<std::vector<BuildId>> delivery_builds(Conn& db, const std::string& id);
// Records the build ids of a delivery this transaction inserted.
util::Status set_delivery_builds(Conn& db, const std::string& id, const std::vector<BuildId>& builds);
// Moves a build to `to` if the state machine allows it (conflict otherwise, not_found when absent), with
// the row locked, setting started_ms/finished_ms as the target state implies.
util::Status transition(Conn& db, BuildId id, BuildState to);
// Runs `planner` for the build's current state and inserts what it returns. No-op without a planner.
util::Status queue_events(Conn& db, const EventPlanner& planner, BuildId id);
// The same for `build` as just read or inserted (no read of its own).
util::Status queue_events(Conn& db, const EventPlanner& planner, const Build& build);

}  // namespace hookyard::storage::postgres
