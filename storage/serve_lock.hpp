#pragma once
// One `hookyard serve` per SQLite file: crash recovery re-queues every running build at start, which is
// right only when no other instance runs them. Several instances need PostgreSQL.

#include <memory>
#include <string>

#include "util/file_lock.hpp"
#include "util/result.hpp"

namespace hookyard::storage {

// Held for the life of a serve: an flock on "PATH.lock" beside the database; released when destroyed or
// when the process dies, however it dies.
using ServeLock = util::FileLock;

// For "sqlite:PATH": takes PATH.lock (retrying for up to 10 s while another holder has it), or conflict
// naming the file, that another serve holds it and what to
// do. Other stores allow several instances: nullptr, success.
util::Result<std::unique_ptr<ServeLock>> lock_for_serve(const std::string& storage_url);

}  // namespace hookyard::storage
