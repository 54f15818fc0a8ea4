#pragma once
// The data of one in-memory store (tests/support/fake_store.hpp), shared by its two halves: builds
// (fake_store.cpp) and the notification outbox (fake_store_outbox.cpp).

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "storage/store.hpp"

namespace hookyard::test {

struct FakeStoreData {
    std::mutex mutex;
    std::map<storage::BuildId, storage::Build> builds;
    std::map<std::string, std::pair<storage::Delivery, std::vector<storage::BuildId>>> deliveries;
    std::map<storage::BuildId, std::string> logs;
    std::map<storage::NotificationId, storage::Notification> notifications;
    std::map<storage::BuildId, std::vector<storage::BuildCallback>> callbacks;
    std::map<std::string, storage::BuildId> last_push;  // image → the build whose record_pushed came last
    storage::BuildId next_build = 1;
    storage::NotificationId next_notification = 1;
    storage::EventPlanner planner;
    std::map<std::string, std::pair<std::string, storage::TimeMs>> leases;  // name → holder, expiry
};

// The outbox, on the data of one store; the caller holds d.mutex.
// Queues the notifications the planner wants for build `id`'s current state.
void fake_queue_events(FakeStoreData& d, storage::BuildId id);
util::Result<std::vector<storage::Notification>> fake_claim_due_notifications(
    FakeStoreData& d, int max_targets, int per_target, const std::vector<std::string>& busy_targets,
    std::chrono::milliseconds lease);
util::Status fake_record_notification_attempt(FakeStoreData& d, storage::NotificationId id,
                                              const storage::NotificationAttempt& a, bool delivered,
                                              storage::TimeMs next_attempt_at);

}  // namespace hookyard::test
