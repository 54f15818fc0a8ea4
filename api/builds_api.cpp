#include "api/builds_api.hpp"

#include <boost/url/parse.hpp>
#include <charconv>
#include <memory>
#include <nlohmann/json.hpp>

#include "api/provenance.hpp"
#include "storage/build_json.hpp"
#include "util/json.hpp"
#include "util/signature.hpp"

namespace hookyard::api {
namespace {

// Most log bytes one request (or one streamed step) returns; the response says where to continue.
constexpr std::size_t k_log_page_bytes = 1024 * 1024;

bool parse_int(std::string_view text, std::int64_t& out) {
    if (text.empty()) return false;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && p == text.data() + text.size();
}

std::map<std::string, std::string> query_params(const std::string& target) {
    std::map<std::string, std::string> out;
    auto url = boost::urls::parse_origin_form(target);
    if (!url) return out;
    for (auto param : url->params()) out[std::string(param.key)] = std::string(param.value);
    return out;
}

}  // namespace

BuildsApi::BuildsApi(std::string api_token, storage::Store& store, std::function<void()> on_queued,
                     std::function<std::vector<std::string>()> wait_reasons)
    : m_token(std::move(api_token)),
      m_store(store),
      m_on_queued(std::move(on_queued)),
      m_wait_reasons(std::move(wait_reasons)) {}

nlohmann::json BuildsApi::to_json(const storage::Build& b, const std::vector<std::string>& waiting) const {
    auto j = storage::build_to_json(b);
    if (b.state == storage::BuildState::queued && !waiting.empty()) j["waiting"] = waiting;
    return j;
}

http::ServerResponse BuildsApi::build_response(unsigned status, const storage::Build& b) const {
    const auto waiting = m_wait_reasons ? m_wait_reasons() : std::vector<std::string>{};
    return http::json_response(status, util::to_json_string(to_json(b, waiting)));
}

void BuildsApi::add_routes(http::RouteTable& table) {
    add_guarded(table, "GET", "/api/v1/builds", &BuildsApi::list);
    add_guarded(table, "GET", "/api/v1/builds/{id}", &BuildsApi::get);
    add_guarded(table, "GET", "/api/v1/builds/{id}/log", &BuildsApi::log);
    add_guarded(table, "GET", "/api/v1/builds/{id}/notifications", &BuildsApi::notifications);
    add_guarded(table, "POST", "/api/v1/builds/{id}/cancel", &BuildsApi::cancel);
    add_guarded(table, "POST", "/api/v1/builds/{id}/retry", &BuildsApi::retry);
    add_guarded(table, "GET", "/api/v1/builds/{id}/provenance", &BuildsApi::provenance);
}

void BuildsApi::add_guarded(http::RouteTable& table, std::string method, std::string_view pattern, Handler handler) {
    table.add(std::move(method), pattern, "api",
              [this, handler](const http::ServerRequest& req, const http::PathParams& params) {
                  if (auto denied = unauthorised(req)) return std::move(*denied);
                  std::int64_t id = 0;
                  const std::string& id_text = params.get("id");
                  if (!id_text.empty() && (!parse_int(id_text, id) || id <= 0)) {
                      return http::json_error(400, "'" + id_text + "' is not a build id");
                  }
                  return (this->*handler)(id, query_params(req.target));
              });
}

std::optional<http::ServerResponse> BuildsApi::unauthorised(const http::ServerRequest& req) const {
    // Compared in constant time; no token configured means the API is off.
    const std::string auth = req.header("authorization");
    constexpr std::string_view k_bearer = "Bearer ";
    if (!m_token.empty() && auth.rfind(k_bearer, 0) == 0 &&
        util::constant_time_equal(std::string_view(auth).substr(k_bearer.size()), m_token)) {
        return std::nullopt;
    }
    http::ServerResponse r = http::json_error(
        401, m_token.empty() ? "the API is disabled: set server.api_token in the config"
                             : "missing or wrong bearer token: send Authorization: Bearer <server.api_token>");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
}

http::ServerResponse BuildsApi::list(storage::BuildId, const Query& params) {
    storage::BuildFilter f;
    if (auto it = params.find("repository"); it != params.end() && !it->second.empty()) f.repository = it->second;
    if (auto it = params.find("state"); it != params.end() && !it->second.empty()) {
        f.state = storage::parse_build_state(it->second);
        if (!f.state) {
            return http::json_error(400, "unknown state '" + it->second +
                                             "': use queued, running, succeeded, failed, canceled or superseded");
        }
    }
    std::int64_t n = 0;
    if (auto it = params.find("limit"); it != params.end()) {
        if (!parse_int(it->second, n) || n < 1 || n > 500) return http::json_error(400, "limit must be 1..500");
        f.limit = static_cast<int>(n);
    }
    if (auto it = params.find("before"); it != params.end()) {
        if (!parse_int(it->second, f.before_id)) return http::json_error(400, "before must be a build id");
    }
    auto builds = m_store.list_builds(f);
    if (!builds) return http::json_error(builds.error());
    nlohmann::json list = nlohmann::json::array();
    const auto waiting = m_wait_reasons ? m_wait_reasons() : std::vector<std::string>{};
    for (const auto& b : *builds) list.push_back(to_json(b, waiting));
    return http::json_response(200, util::to_json_string(nlohmann::json{{"builds", std::move(list)}}));
}

http::ServerResponse BuildsApi::get(storage::BuildId id, const Query&) {
    auto b = m_store.get_build(id);
    if (!b) return http::json_error(b.error());
    return build_response(200, *b);
}

http::ServerResponse BuildsApi::provenance(storage::BuildId id, const Query&) {
    auto b = m_store.get_build(id);
    if (!b) return http::json_error(b.error());
    return http::json_response(200, util::to_json_string(provenance_statement(*b)));
}

http::ServerResponse BuildsApi::cancel(storage::BuildId id, const Query&) {
    auto b = m_store.cancel_build(id);
    if (!b) return http::json_error(b.error());
    return build_response(200, *b);
}

http::ServerResponse BuildsApi::retry(storage::BuildId id, const Query&) {
    auto b = m_store.retry_build(id);
    if (!b) return http::json_error(b.error());
    if (m_on_queued) m_on_queued();
    return build_response(201, *b);
}

// A page of the log from an offset, or (follow=1) a stream until the build is terminal and all was sent.
http::ServerResponse BuildsApi::log(storage::BuildId id, const Query& params) {
    std::int64_t offset = 0;
    if (auto it = params.find("offset"); it != params.end() && (!parse_int(it->second, offset) || offset < 0)) {
        return http::json_error(400, "offset must be a byte offset >= 0");
    }
    auto chunk = m_store.read_log(id, offset, k_log_page_bytes);
    if (!chunk) return http::json_error(chunk.error());
    if (auto it = params.find("follow"); it != params.end() && it->second != "0" && it->second != "false") {
        return follow_log(id, std::move(*chunk));
    }
    http::ServerResponse r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = std::move(chunk->data);
    r.headers.emplace_back("X-Log-Next-Offset", std::to_string(chunk->next_offset));
    r.headers.emplace_back("X-Log-Complete", chunk->complete ? "true" : "false");
    return r;
}

http::ServerResponse BuildsApi::follow_log(storage::BuildId id, storage::LogChunk first) {
    struct State {
        storage::LogChunk pending;
        bool sent_first = false;
    };
    auto state = std::make_shared<State>(State{std::move(first)});
    http::ServerResponse r;
    r.content_type = "text/plain; charset=utf-8";
    r.stream = [this, id, state]() -> http::StreamStep {
        if (!state->sent_first) {
            state->sent_first = true;
            return http::StreamStep{std::move(state->pending.data), state->pending.complete};
        }
        auto chunk = m_store.read_log(id, state->pending.next_offset, k_log_page_bytes);
        if (!chunk) return http::StreamStep{"\n[hookyard: log unavailable: " + chunk.error().message + "]\n", true};
        state->pending.next_offset = chunk->next_offset;
        return http::StreamStep{std::move(chunk->data), chunk->complete};
    };
    return r;
}

}  // namespace hookyard::api
