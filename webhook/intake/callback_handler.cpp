#include "webhook/intake/callback_handler.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "util/json.hpp"
#include "util/signature.hpp"

namespace hookyard::intake {
namespace {

constexpr std::size_t k_description_max = 255;  // Docker Hub's limits
constexpr std::size_t k_context_max = 100;
constexpr std::size_t k_target_url_max = 2048;

storage::BuildId parse_id(std::string_view text) {
    storage::BuildId id = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    return ec == std::errc() && p == text.data() + text.size() && id > 0 ? id : 0;
}

// Reads the optional string `key` of at most `max` bytes into `out`; false when it is something else.
bool optional_text(const nlohmann::json& body, const char* key, std::size_t max, std::string& out) {
    const auto it = body.find(key);
    if (it == body.end() || it->is_null()) return true;
    if (!it->is_string() || it->get<std::string>().size() > max) return false;
    out = it->get<std::string>();
    return true;
}

util::Result<storage::BuildCallback> parse_body(const std::string& text) {
    auto bad = [](const char* message) { return util::make_error(util::ErrorKind::invalid_input, message); };
    const auto body = nlohmann::json::parse(text, nullptr, false);
    if (!body.is_object()) return bad("the callback body must be a JSON object like {\"state\": \"success\"}");
    storage::BuildCallback cb;
    cb.received_at = storage::now_ms();
    if (const auto state = body.find("state"); state != body.end() && state->is_string()) {
        cb.state = state->get<std::string>();
    }
    if (cb.state != "success" && cb.state != "failure" && cb.state != "error") {
        return bad("state must be success, failure or error");
    }
    if (!optional_text(body, "description", k_description_max, cb.description)) {
        return bad("description must be a string of at most 255 characters");
    }
    if (!optional_text(body, "context", k_context_max, cb.context)) {
        return bad("context must be a string of at most 100 characters");
    }
    if (!optional_text(body, "target_url", k_target_url_max, cb.target_url)) return bad("target_url must be a string");
    return cb;
}

}  // namespace

CallbackHandler::CallbackHandler(std::string webhook_secret, storage::Store& store)
    : m_secret(std::move(webhook_secret)), m_store(store) {}

void CallbackHandler::add_routes(http::RouteTable& table, http::RateLimiter* limiter) {
    table.add("POST", "/api/v1/callbacks/{id}/{token}", "callback",
              http::rate_limited(limiter, [this](const http::ServerRequest& req, const http::PathParams& params) {
                  return handle(req, params.get("id"), params.get("token"));
              }));
}

http::ServerResponse CallbackHandler::handle(const http::ServerRequest& req, std::string_view id_text,
                                             std::string_view token) {
    // 1. The build id, and the token that proves the caller received its payload (constant time).
    const storage::BuildId id = parse_id(id_text);
    if (id == 0) return http::json_error(404, "unknown callback URL");
    if (!util::constant_time_equal(token, util::callback_token(m_secret, id))) {
        return http::json_error(401, "wrong callback token: use the callback_url from the webhook payload");
    }
    // 2. Docker Hub's body: state is required, the rest optional and bounded.
    auto cb = parse_body(req.body);
    if (!cb) return http::json_error(400, cb.error().message);
    // 3. Recorded on the build.
    if (auto st = m_store.add_callback(id, *cb); !st) {
        return http::json_error(st.error().kind == util::ErrorKind::not_found ? 404 : 503, st.error().message);
    }
    return http::json_response(200, util::to_json_string(nlohmann::json{{"build", id}, {"state", cb->state}}));
}

}  // namespace hookyard::intake
