// Docker Hub's callback_url and the notifications view of a build.

#include <nlohmann/json.hpp>

#include "util/log.hpp"
#include "webhook/notify/notify_payloads.hpp"
#include "api/router.hpp"
#include "util/signature.hpp"

namespace hookyard::api {
namespace {

constexpr std::size_t k_description_max = 255;  // Docker Hub's limits
constexpr std::size_t k_context_max = 100;

nlohmann::json time_or_null(storage::TimeMs t) {
    return t > 0 ? nlohmann::json(storage::format_rfc3339(t)) : nlohmann::json(nullptr);
}

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

}  // namespace

http::ServerResponse Router::callback(const http::ServerRequest& req, std::string_view id_and_token) {
    // 1. /api/v1/callbacks/{id}/{token}: the token is an HMAC of the id, so only receivers of the build's
    //    Docker Hub payload can call back; compared in constant time.
    const auto slash = id_and_token.find('/');
    storage::BuildId id = 0;
    const std::string id_text(id_and_token.substr(0, slash));
    try {
        std::size_t used = 0;
        id = std::stoll(id_text, &used);
        if (used != id_text.size() || id <= 0) id = 0;
    } catch (const std::exception&) {
        id = 0;
    }
    if (id == 0 || slash == std::string_view::npos) return http::json_error(404, "unknown callback URL");
    if (!util::constant_time_equal(id_and_token.substr(slash + 1), notify::callback_token(m_config.server.webhook_secret, id))) {
        return http::json_error(401, "wrong callback token: use the callback_url from the webhook payload");
    }
    // 2. Docker Hub's body: state is required, the rest optional and bounded.
    const auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object()) return http::json_error(400, "the callback body must be a JSON object like {\"state\": \"success\"}");
    storage::BuildCallback cb;
    cb.received_at = storage::now_ms();
    cb.state = body.value("state", "");
    if (cb.state != "success" && cb.state != "failure" && cb.state != "error") {
        return http::json_error(400, "state must be success, failure or error");
    }
    auto text = [&](const char* key, std::size_t max, std::string& out) {
        const auto it = body.find(key);
        if (it == body.end() || it->is_null()) return true;
        if (!it->is_string() || it->get<std::string>().size() > max) return false;
        out = it->get<std::string>();
        return true;
    };
    if (!text("description", k_description_max, cb.description)) {
        return http::json_error(400, "description must be a string of at most 255 characters");
    }
    if (!text("context", k_context_max, cb.context)) {
        return http::json_error(400, "context must be a string of at most 100 characters");
    }
    if (!text("target_url", 2048, cb.target_url)) return http::json_error(400, "target_url must be a string");
    // 3. Recorded on the build.
    if (auto st = m_store.add_callback(id, cb); !st) {
        return http::json_error(st.error().kind == util::ErrorKind::not_found ? 404 : 503, st.error().message);
    }
    return http::json_response(200, dump({{"build", id}, {"state", cb.state}}));
}

http::ServerResponse Router::notifications(storage::BuildId id) {
    auto build = m_store.get_build(id);
    if (!build) return http::json_error(build.error().kind == util::ErrorKind::not_found ? 404 : 503, build.error().message);
    auto items = m_store.list_notifications(id);
    auto callbacks = m_store.list_callbacks(id);
    if (!items || !callbacks) return http::json_error(503, "storage unavailable");
    nlohmann::json list = nlohmann::json::array();
    for (const auto& n : *items) {
        nlohmann::json attempts = nlohmann::json::array();
        for (const auto& a : n.history) {
            attempts.push_back({{"attempt", a.attempt},
                                {"at", time_or_null(a.at)},
                                {"status", a.status},
                                {"latency_ms", a.latency_ms},
                                {"error", a.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.error)}});
        }
        list.push_back({{"id", n.id},
                        {"target", n.target},
                        {"event", n.event},
                        {"url", util::redact_url(n.url)},
                        {"delivery", n.delivery},
                        {"state", storage::to_string(n.state)},
                        {"created_at", time_or_null(n.created_at)},
                        {"next_attempt_at", n.state == storage::NotificationState::pending ? time_or_null(n.next_attempt_at)
                                                                                           : nlohmann::json(nullptr)},
                        {"delivered_at", time_or_null(n.delivered_at)},
                        {"last_error", n.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.last_error)},
                        {"attempts", std::move(attempts)}});
    }
    nlohmann::json cbs = nlohmann::json::array();
    for (const auto& c : *callbacks) {
        cbs.push_back({{"received_at", time_or_null(c.received_at)},
                       {"state", c.state},
                       {"description", c.description},
                       {"context", c.context},
                       {"target_url", c.target_url}});
    }
    return http::json_response(200, dump({{"build", id}, {"notifications", std::move(list)}, {"callbacks", std::move(cbs)}}));
}

}  // namespace hookyard::api
