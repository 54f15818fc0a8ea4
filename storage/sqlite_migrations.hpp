#pragma once
// Numbered, append-only schema migrations for the SQLite store. Never edit a shipped migration: add one.

#include "storage/sqlite_db.hpp"

namespace hookyard::storage::sqlite {

// Applies every migration not recorded in schema_migrations, in number order, each in its own transaction.
// Idempotent. Fails (naming the migration) when one does not apply; the database is left at the last one
// that did. Then switches the file to auto_vacuum=incremental (a VACUUM, once; a failure only warns).
util::Status migrate(Db& db);

// The number of the newest migration this build knows.
int latest_schema_version();

}  // namespace hookyard::storage::sqlite
