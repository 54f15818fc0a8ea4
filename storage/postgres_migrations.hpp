#pragma once
// The PostgreSQL store's numbered migrations. Internal to storage/.

#include "storage/postgres_conn.hpp"

namespace hookyard::storage::postgres {

// The schema version this build of hookyard writes.
int latest_schema_version();
// Applies every migration the database lacks, one transaction each, under an advisory lock (instances
// starting together take turns). invalid_input naming both versions when the database is newer than us.
util::Status migrate(Conn& db);

}  // namespace hookyard::storage::postgres
