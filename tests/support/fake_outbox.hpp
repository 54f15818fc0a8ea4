#pragma once
// The in-memory store's outbox (FakeStore::claim_due_notifications, record_notification_attempt): the same
// choices the SQLite store makes, on maps.

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "storage/store.hpp"

namespace hookyard::test {

// `Data` is FakeStoreData (notifications); the caller holds its mutex.
template <class Data>
util::Result<std::vector<storage::Notification>> fake_claim_due(Data& d, int max_targets, int per_target,
                                                                const std::vector<std::string>& busy_targets,
                                                                std::chrono::milliseconds lease) {
    using storage::Notification;
    using storage::TimeMs;
    const TimeMs now = storage::now_ms();
    // Due notifications ordered as the SQLite store orders them: by due time, then id.
    std::vector<Notification*> due;
    for (auto& [id, n] : d.notifications) {
        if (n.state != storage::NotificationState::pending || n.next_attempt_at > now) continue;
        if (std::find(busy_targets.begin(), busy_targets.end(), n.target) != busy_targets.end()) continue;
        due.push_back(&n);
    }
    std::stable_sort(due.begin(), due.end(),
                     [](const auto* a, const auto* b) { return a->next_attempt_at < b->next_attempt_at; });
    std::vector<std::string> targets;
    std::map<std::string, int> taken;
    std::vector<Notification> out;
    for (auto* n : due) {
        if (std::find(targets.begin(), targets.end(), n->target) == targets.end()) {
            if (std::ssize(targets) == max_targets) continue;
            targets.push_back(n->target);
        }
        if (taken[n->target]++ >= per_target) continue;
        out.push_back(*n);
        n->next_attempt_at = now + lease.count();
    }
    return out;
}

// `Data` is FakeStoreData (notifications); the caller holds its mutex.
template <class Data>
util::Status fake_record_attempt(Data& d, storage::NotificationId id, const storage::NotificationAttempt& a,
                                 bool delivered, storage::TimeMs next_attempt_at) {
    using storage::Notification;
    using util::ErrorKind;
    using util::make_error;
    auto it = d.notifications.find(id);
    if (it == d.notifications.end() || it->second.state != storage::NotificationState::pending) {
        return make_error(ErrorKind::conflict,
                          "notification " + std::to_string(id) + " is not pending (already delivered or failed)");
    }
    Notification& n = it->second;
    storage::NotificationAttempt recorded = a;
    recorded.attempt = ++n.attempts;
    n.history.push_back(recorded);
    n.state = delivered
                  ? storage::NotificationState::delivered
                  : (next_attempt_at == 0 ? storage::NotificationState::failed : storage::NotificationState::pending);
    n.next_attempt_at = next_attempt_at;
    n.delivered_at = delivered ? a.at : 0;
    n.last_error = a.error;
    return {};
}

}  // namespace hookyard::test
