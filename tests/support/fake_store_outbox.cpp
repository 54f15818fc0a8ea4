// The outbox half of the in-memory store: notifications queued by state changes, claimed and recorded
// as the SQLite store does (tests/unit/storage runs one contract suite against both).

#include <algorithm>
#include <cstdio>

#include "tests/support/fake_store_data.hpp"

namespace hookyard::test {

using storage::Notification;

void fake_queue_events(FakeStoreData& d, storage::BuildId id) {
    if (!d.planner) return;
    const storage::Build& b = d.builds.at(id);
    const auto event = storage::event_for_state(b.state);
    if (event.empty()) return;
    for (auto& n : d.planner(b, event)) {
        Notification note;
        static_cast<storage::NewNotification&>(note) = std::move(n);
        note.id = d.next_notification++;
        char uuid[40];
        std::snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012lld", static_cast<long long>(note.id));
        note.delivery = uuid;
        note.created_at = note.next_attempt_at = storage::now_ms();
        d.notifications.emplace(note.id, std::move(note));
    }
}

util::Result<std::vector<Notification>> fake_claim_due_notifications(FakeStoreData& d, int max_targets, int per_target,
                                                                     const std::vector<std::string>& busy_targets,
                                                                     std::chrono::milliseconds lease) {
    const storage::TimeMs now = storage::now_ms();
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

util::Status fake_record_notification_attempt(FakeStoreData& d, storage::NotificationId id,
                                              const storage::NotificationAttempt& a, bool delivered,
                                              storage::TimeMs next_attempt_at) {
    auto it = d.notifications.find(id);
    if (it == d.notifications.end() || it->second.state != storage::NotificationState::pending) {
        return util::make_error(util::ErrorKind::conflict,
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
