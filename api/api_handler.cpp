// The REST API (/api/v1/builds…, bearer token) and the Docker Hub-style trigger (/api/v1/trigger/{token}).

#include <algorithm>
#include <boost/url/parse.hpp>
#include <charconv>
#include <nlohmann/json.hpp>
#include <set>

#include "config/rules.hpp"
#include "storage/new_build.hpp"
#include "storage/build_json.hpp"
#include "api/router.hpp"
#include "util/signature.hpp"

namespace hookyard::api {
namespace {

using util::ErrorKind;

// Most log bytes one request returns; the response says where to continue.
constexpr std::size_t k_log_page_bytes = 1024 * 1024;

unsigned status_for(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::invalid_input:
            return 400;
        case ErrorKind::auth:
            return 401;
        case ErrorKind::not_found:
            return 404;
        case ErrorKind::conflict:
            return 409;
        case ErrorKind::transient:
        case ErrorKind::timeout:
            return 503;
        default:
            return 500;
    }
}

http::ServerResponse from_error(const util::Error& e) { return http::json_error(status_for(e.kind), e.message); }

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

storage::NewBuild to_new_build(const config::RepositoryConfig& repo, const config::PlannedBuild& p,
                               const std::string& ref) {
    storage::NewBuild b = storage::make_new_build(repo, p, ref);
    b.pusher = "api-trigger";
    return b;
}

std::string full_ref(config::SourceType type, const std::string& name) {
    return (type == config::SourceType::tag ? "refs/tags/" : "refs/heads/") + name;
}

}  // namespace

http::ServerResponse Router::api(const http::ServerRequest& req, std::string_view path) {
    // 1. Bearer token, compared in constant time; no token configured means the API is off.
    const std::string auth = req.header("authorization");
    constexpr std::string_view k_bearer = "Bearer ";
    const bool authorised =
        !m_config.server.api_token.empty() && auth.rfind(k_bearer, 0) == 0 &&
        util::constant_time_equal(std::string_view(auth).substr(k_bearer.size()), m_config.server.api_token);
    if (!authorised) {
        http::ServerResponse r =
            http::json_error(401, m_config.server.api_token.empty()
                                ? "the API is disabled: set server.api_token in the config"
                                : "missing or wrong bearer token: send Authorization: Bearer <server.api_token>");
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return r;
    }
    const auto params = query_params(req.target);
    constexpr std::string_view k_builds = "/api/v1/builds";

    // 2. GET /api/v1/builds
    if (path == k_builds) {
        if (req.method != "GET") return http::json_error(405, "use GET for /api/v1/builds");
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
        if (!builds) return from_error(builds.error());
        nlohmann::json list = nlohmann::json::array();
        for (const auto& b : *builds) list.push_back(storage::build_to_json(b));
        return http::json_response(200, nlohmann::json{{"builds", std::move(list)}}.dump(
                                      -1, ' ', false, nlohmann::json::error_handler_t::replace));
    }

    // 3. /api/v1/builds/{id}[/log|/cancel|/retry]
    if (path.rfind(std::string(k_builds) + "/", 0) != 0)
        return http::json_error(404, "no such endpoint: " + std::string(path));
    std::string_view rest = path.substr(k_builds.size() + 1);
    const auto slash = rest.find('/');
    const std::string_view action = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    std::int64_t id = 0;
    if (!parse_int(rest.substr(0, slash), id) || id <= 0) {
        return http::json_error(400, "'" + std::string(rest.substr(0, slash)) + "' is not a build id");
    }
    const std::string want = (action == "cancel" || action == "retry") ? "POST" : "GET";
    if (action != "" && action != "log" && action != "cancel" && action != "retry" && action != "notifications") {
        return http::json_error(404, "no such endpoint: " + std::string(path));
    }
    if (req.method != want) return http::json_error(405, "use " + want + " for " + std::string(path));

    if (action == "notifications") return notifications(id);
    if (action.empty()) {
        auto b = m_store.get_build(id);
        if (!b) return from_error(b.error());
        return http::json_response(200, storage::build_to_json(*b).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    if (action == "log") {
        std::int64_t offset = 0;
        if (auto it = params.find("offset"); it != params.end() && (!parse_int(it->second, offset) || offset < 0)) {
            return http::json_error(400, "offset must be a byte offset >= 0");
        }
        auto chunk = m_store.read_log(id, offset, k_log_page_bytes);
        if (!chunk) return from_error(chunk.error());
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
    auto b = action == "cancel" ? m_store.cancel_build(id) : m_store.retry_build(id);
    if (!b) return from_error(b.error());
    if (action == "retry" && m_on_queued) m_on_queued();
    return http::json_response(action == "retry" ? 201 : 200,
                         storage::build_to_json(*b).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

http::ServerResponse Router::follow_log(storage::BuildId id, storage::LogChunk first) {
    // Streams the log from where `first` starts until the build is terminal and everything was sent.
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

http::ServerResponse Router::trigger(const http::ServerRequest& req, std::string_view token) {
    // 1. The token in the path names the repository; compared in constant time against every entry.
    const config::RepositoryConfig* repo = nullptr;
    for (const auto& r : m_config.repositories) {
        if (!r.trigger_token.empty() && util::constant_time_equal(token, r.trigger_token)) repo = &r;
    }
    if (repo == nullptr) return http::json_error(404, "unknown trigger token");

    // 2. Docker Hub's bodies: {"source_type":"Branch"|"Tag","source_name":"main"}, {"docker_tag":"latest"},
    //    or empty / {"build":true} for every rule with a literal source.
    nlohmann::json body = nlohmann::json::object();
    if (!req.body.empty()) {
        body = nlohmann::json::parse(req.body, nullptr, false);
        if (body.is_discarded() || !body.is_object()) return http::json_error(400, "trigger body must be a JSON object");
    }
    std::vector<std::string> refs;
    std::string docker_tag;
    if (body.contains("source_name")) {
        const std::string type = body.value("source_type", std::string("Branch"));
        const auto name = body["source_name"].is_string() ? body["source_name"].get<std::string>() : std::string();
        if (name.empty()) return http::json_error(400, "source_name must be a non-empty string");
        if (type != "Branch" && type != "Tag" && type != "branch" && type != "tag") {
            return http::json_error(400, "source_type must be Branch or Tag");
        }
        refs.push_back(
            full_ref(type == "Tag" || type == "tag" ? config::SourceType::tag : config::SourceType::branch, name));
    } else {
        if (body.contains("docker_tag")) {
            if (!body["docker_tag"].is_string()) return http::json_error(400, "docker_tag must be a string");
            docker_tag = body["docker_tag"].get<std::string>();
        }
        for (const auto& rule : repo->rules) {
            if (!rule.is_regex) refs.push_back(full_ref(rule.source_type, rule.source));
        }
    }

    // 3. Plan as a manual push (autobuild:false rules count); the commit stays empty: the branch head at
    //    checkout time.
    std::vector<storage::NewBuild> builds;
    std::set<std::pair<std::size_t, std::string>> seen;
    for (const auto& ref : refs) {
        config::PushInfo info;
        info.ref = ref;
        info.manual = true;
        for (const auto& p : config::plan_builds(*repo, info).builds) {
            if (!docker_tag.empty() && std::find(p.tags.begin(), p.tags.end(), docker_tag) == p.tags.end()) continue;
            if (seen.emplace(p.rule_index, ref).second) builds.push_back(to_new_build(*repo, p, ref));
        }
    }
    if (builds.empty()) {
        return http::json_error(400,
                          "no rule of " + repo->github + " matches this trigger: name a branch or tag a rule builds");
    }
    auto stored = m_store.insert_builds(std::move(builds));
    if (!stored) return from_error(stored.error());
    if (m_on_queued) m_on_queued();
    nlohmann::json ids = nlohmann::json::array();
    for (const auto& b : *stored) ids.push_back(b.id);
    return http::json_response(202, nlohmann::json{{"repository", repo->github}, {"builds", ids}}.dump());
}

}  // namespace hookyard::api
