#pragma once
// The notification outbox: outbound requests (subscriber webhooks, GitHub commit statuses) queued in the
// same transaction as the build change that caused them, then delivered by the dispatcher with retries.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/records.hpp"

namespace hookyard::storage {

using NotificationId = std::int64_t;

// One outbound request to make. The body is rendered when queued, so it describes the build as it was
// at the event; credentials (HMAC secrets, tokens) are NOT stored: the dispatcher adds them at send time
// from the config, looked up by `target`.
struct NewNotification {
    BuildId build_id = 0;
    std::string target;  // a subscriber's name, or "github" for a commit status
    std::string event;   // build.queued | build.started | build.succeeded | build.failed | build.canceled | push
    std::string url;
    std::string body;  // JSON
};

enum class NotificationState { pending, delivered, failed };
std::string_view to_string(NotificationState state);

struct NotificationAttempt {
    int attempt = 0;
    TimeMs at = 0;
    int status = 0;  // HTTP status; 0 when no response came
    std::int64_t latency_ms = 0;
    std::string error;
};

struct Notification : NewNotification {
    NotificationId id = 0;
    std::string delivery;  // a UUID, sent as X-Hookyard-Delivery; the same on every retry
    NotificationState state = NotificationState::pending;
    int attempts = 0;
    TimeMs created_at = 0;
    TimeMs next_attempt_at = 0;
    TimeMs delivered_at = 0;
    std::string last_error;
    std::vector<NotificationAttempt> history;  // filled by list calls, oldest first
};

// A Docker Hub callback received on a build's callback_url.
struct BuildCallback {
    TimeMs received_at = 0;
    std::string state;  // success | failure | error
    std::string description;
    std::string context;
    std::string target_url;
};

// Decides, for a build that just changed state, which notifications to queue. `event` is one of the
// build.* names above. Called inside the store's transaction: it must be pure and fast.
using EventPlanner = std::function<std::vector<NewNotification>(const Build& build, std::string_view event)>;

// The event name for a build that reached `state`: build.queued, build.started (running), build.succeeded,
// build.failed, build.canceled; "" for superseded (no event).
std::string_view event_for_state(BuildState state);

}  // namespace hookyard::storage
