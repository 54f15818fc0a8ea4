#pragma once
// Outbox rows ↔ records, on one connection. Callers hold the connection's lock and, for writes, an open
// transaction. Internal to the SQLite store.

#include <vector>

#include "storage/outbox.hpp"
#include "storage/sqlite_db.hpp"

namespace hookyard::storage::sqlite {

// Inserts pending notifications due at once.
util::Status insert_notifications(Db& db, const std::vector<NewNotification>& items);
// Runs `planner` for the build's current state and inserts what it returns. No-op without a planner.
util::Status queue_events(Db& db, const EventPlanner& planner, BuildId id);
// Pending notifications due at `now` of at most `max_targets` targets not in `busy_targets` (the targets
// with the oldest due notification first), at most `per_target` each, leased until now + lease_ms so
// that a dispatcher that dies does not hold them for ever and no two dispatchers take the same one.
util::Result<std::vector<Notification>> claim_due_notifications(Db& db, TimeMs now, std::int64_t lease_ms,
                                                                int max_targets, int per_target,
                                                                const std::vector<std::string>& busy_targets);
// Records one attempt; `next_attempt_at` 0 with !delivered marks the notification failed for good.
util::Status record_attempt(Db& db, NotificationId id, const NotificationAttempt& attempt, bool delivered,
                            TimeMs next_attempt_at);
// A build's notifications with their attempt history, oldest first.
util::Result<std::vector<Notification>> load_notifications(Db& db, BuildId build_id);

// Inserts a Docker Hub callback for a build; not_found when the build does not exist.
util::Status insert_callback(Db& db, BuildId build_id, const BuildCallback& callback);
// A build's callbacks, oldest first.
util::Result<std::vector<BuildCallback>> load_callbacks(Db& db, BuildId build_id);

}  // namespace hookyard::storage::sqlite
