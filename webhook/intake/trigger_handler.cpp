#include "webhook/intake/trigger_handler.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "config/rules.hpp"
#include "storage/new_build.hpp"
#include "util/json.hpp"
#include "util/signature.hpp"
#include "webhook/intake/clone_url.hpp"
#include "webhook/intake/github_event.hpp"

namespace hookyard::intake {
namespace {

// What a trigger body asks for: full refs, optionally narrowed to the rules producing `docker_tag`.
struct Request {
    std::vector<std::string> refs;
    std::string docker_tag;
    bool reuse = true;  // "reuse": false builds even when an identical image exists (pipeline/reuse.hpp)
};

std::string full_ref(config::SourceType type, const std::string& name) {
    return (type == config::SourceType::tag ? "refs/tags/" : "refs/heads/") + name;
}

util::Result<Request> parse_body(const std::string& text, const config::RepositoryConfig& repo) {
    auto bad = [](const char* message) { return util::make_error(util::ErrorKind::invalid_input, message); };
    nlohmann::json body = nlohmann::json::object();
    if (!text.empty()) {
        body = nlohmann::json::parse(text, nullptr, false);
        if (body.is_discarded() || !body.is_object()) return bad("trigger body must be a JSON object");
    }
    Request out;
    if (body.contains("reuse")) {
        if (!body["reuse"].is_boolean()) return bad("reuse must be true or false");
        out.reuse = body["reuse"].get<bool>();
    }
    if (body.contains("source_name")) {
        // Types are checked before any get<>: a number where a string belongs is the client's error, not ours.
        if (body.contains("source_type") && !body["source_type"].is_string()) {
            return bad("source_type must be a string: Branch or Tag");
        }
        const std::string type = body.value("source_type", std::string("Branch"));
        const auto name = body["source_name"].is_string() ? body["source_name"].get<std::string>() : std::string();
        if (name.empty()) return bad("source_name must be a non-empty string");
        if (type != "Branch" && type != "Tag" && type != "branch" && type != "tag") {
            return bad("source_type must be Branch or Tag");
        }
        out.refs.push_back(
            full_ref(type == "Tag" || type == "tag" ? config::SourceType::tag : config::SourceType::branch, name));
        if (out.refs.back().size() > k_max_ref_bytes) return bad("source_name makes a ref longer than 255 bytes");
        return out;
    }
    if (body.contains("docker_tag")) {
        if (!body["docker_tag"].is_string()) return bad("docker_tag must be a string");
        out.docker_tag = body["docker_tag"].get<std::string>();
    }
    for (const auto& rule : repo.rules) {
        if (!rule.is_regex) out.refs.push_back(full_ref(rule.source_type, rule.source));
    }
    return out;
}

std::vector<storage::NewBuild> plan(const config::Config& config, const config::RepositoryConfig& repo,
                                    const Request& request) {
    std::vector<storage::NewBuild> builds;
    std::set<std::pair<std::size_t, std::string>> seen;
    for (const auto& ref : request.refs) {
        config::PushInfo info;
        info.ref = ref;
        info.manual = true;
        info.time_s = storage::now_ms() / 1000;  // {sha} waits for checkout (commit_tags.hpp)
        for (const auto& p : config::plan_builds(repo, info).builds) {
            const auto& tags = p.tags;
            if (!request.docker_tag.empty() && std::find(tags.begin(), tags.end(), request.docker_tag) == tags.end()) {
                continue;
            }
            if (!seen.emplace(p.rule_index, ref).second) continue;
            storage::NewBuild b = storage::make_new_build(repo, p, ref);
            b.pusher = "api-trigger";
            b.trigger_type = "trigger_url";
            b.trigger_reason = "trigger URL for " + ref;
            b.reuse = request.reuse;
            b.clone_url = clone_url_for(config, repo);
            builds.push_back(std::move(b));
        }
    }
    return builds;
}

}  // namespace

TriggerHandler::TriggerHandler(const config::Config& config, storage::Store& store, std::function<void()> on_queued)
    : m_config(config), m_store(store), m_on_queued(std::move(on_queued)) {}

void TriggerHandler::add_routes(http::RouteTable& table, http::RateLimiter* limiter) {
    table.add("POST", "/api/v1/trigger/{token}", "trigger",
              http::rate_limited(limiter, [this](const http::ServerRequest& req, const http::PathParams& params) {
                  return handle(req, params.get("token"));
              }));
}

http::ServerResponse TriggerHandler::handle(const http::ServerRequest& req, std::string_view token) {
    // 1. The token names the repository; compared in constant time against every entry.
    const config::RepositoryConfig* repo = nullptr;
    for (const auto& r : m_config.repositories) {
        if (!r.trigger_token.empty() && util::constant_time_equal(token, r.trigger_token)) repo = &r;
    }
    if (repo == nullptr) return http::json_error(404, "unknown trigger token");
    // 2. The body: which refs (and tag) to build.
    auto request = parse_body(req.body, *repo);
    if (!request) return http::json_error(400, request.error().message);
    // 3. Plan and store.
    auto builds = plan(m_config, *repo, *request);
    if (builds.empty()) {
        return http::json_error(
            400, "no rule of " + repo->github + " matches this trigger: name a branch or tag a rule builds");
    }
    auto stored = m_store.insert_builds(std::move(builds));
    if (!stored) return http::json_error(stored.error());
    if (m_on_queued) m_on_queued();
    nlohmann::json ids = nlohmann::json::array();
    for (const auto& b : *stored) ids.push_back(b.id);
    return http::json_response(202,
                               util::to_json_string(nlohmann::json{{"repository", repo->github}, {"builds", ids}}));
}

}  // namespace hookyard::intake
