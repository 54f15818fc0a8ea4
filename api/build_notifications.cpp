// GET /api/v1/builds/{id}/notifications: the outbox of a build with every attempt, and its callbacks.

#include <nlohmann/json.hpp>

#include "api/builds_api.hpp"
#include "util/json.hpp"
#include "util/log.hpp"

namespace hookyard::api {
namespace {

using nlohmann::json;

json time_or_null(storage::TimeMs t) { return t > 0 ? json(storage::format_rfc3339(t)) : json(nullptr); }

json text_or_null(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

json notification_json(const storage::Notification& n) {
    json attempts = json::array();
    for (const auto& a : n.history) {
        attempts.push_back({{"attempt", a.attempt},
                            {"at", time_or_null(a.at)},
                            {"status", a.status},
                            {"latency_ms", a.latency_ms},
                            {"error", text_or_null(a.error)}});
    }
    const bool pending = n.state == storage::NotificationState::pending;
    return {{"id", n.id},
            {"target", n.target},
            {"event", n.event},
            {"url", util::redact_url(n.url)},
            {"delivery", n.delivery},
            {"state", storage::to_string(n.state)},
            {"created_at", time_or_null(n.created_at)},
            {"next_attempt_at", pending ? time_or_null(n.next_attempt_at) : json(nullptr)},
            {"delivered_at", time_or_null(n.delivered_at)},
            {"last_error", text_or_null(n.last_error)},
            {"attempts", std::move(attempts)}};
}

json callback_json(const storage::BuildCallback& c) {
    return {{"received_at", time_or_null(c.received_at)},
            {"state", c.state},
            {"description", c.description},
            {"context", c.context},
            {"target_url", c.target_url}};
}

}  // namespace

http::ServerResponse BuildsApi::notifications(storage::BuildId id, const Query&) {
    auto build = m_store.get_build(id);
    if (!build) {
        return http::json_error(build.error().kind == util::ErrorKind::not_found ? 404 : 503, build.error().message);
    }
    auto items = m_store.list_notifications(id);
    auto callbacks = m_store.list_callbacks(id);
    if (!items || !callbacks) return http::json_error(503, "storage unavailable");
    json list = json::array();
    for (const auto& n : *items) list.push_back(notification_json(n));
    json cbs = json::array();
    for (const auto& c : *callbacks) cbs.push_back(callback_json(c));
    return http::json_response(
        200,
        util::to_json_string(json{{"build", id}, {"notifications", std::move(list)}, {"callbacks", std::move(cbs)}}));
}

}  // namespace hookyard::api
