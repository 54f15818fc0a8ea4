#include "api/badge.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "api/web_html.hpp"
#include "util/json.hpp"

namespace hookyard::api {
namespace {

// How many builds of one state a badge looks through at most (newest first) for one pushing its tag: keeps
// the answer fast for a tag that was last pushed long ago.
constexpr int k_badge_page = 20;
constexpr int k_badge_pages = 25;

// Short: a README shows a new state within a minute, and a badge embedded in a popular page still costs
// at most one store read per proxy per half minute.
constexpr std::string_view k_badge_cache = "public, max-age=30";

// Approximate width of Verdana 11px text, as shields sizes its badges.
int text_width(std::string_view text) { return static_cast<int>(text.size()) * 7 + 10; }

std::string colour_hex(std::string_view colour) {
    if (colour == "brightgreen") return "#4c1";
    if (colour == "red") return "#e05d44";
    if (colour == "yellow") return "#dfb317";
    return "#9f9f9f";
}

}  // namespace

namespace {

struct BadgeLook {
    std::string_view message;
    std::string_view colour;  // as shields.io names it
};

// By BadgeStatus: passing, failing, building, unknown.
constexpr BadgeLook k_badge_looks[] = {
    {"passing", "brightgreen"}, {"failing", "red"}, {"building", "yellow"}, {"unknown", "lightgrey"}};

}  // namespace

std::string_view badge_message(BadgeStatus s) { return k_badge_looks[static_cast<int>(s)].message; }

std::string_view badge_colour(BadgeStatus s) { return k_badge_looks[static_cast<int>(s)].colour; }

BadgeStatus badge_status(const std::vector<storage::Build>& newest_first, std::string_view tag, bool& verdict_found) {
    bool running = false;
    for (const auto& b : newest_first) {
        if (!tag.empty() && std::find(b.tags.begin(), b.tags.end(), tag) == b.tags.end()) continue;
        // Canceled and superseded builds say nothing about the code: the verdict is the build before them.
        if (b.state == storage::BuildState::running) running = true;
        if (b.state != storage::BuildState::succeeded && b.state != storage::BuildState::failed) continue;
        verdict_found = true;
        if (running) return BadgeStatus::building;
        return b.state == storage::BuildState::succeeded ? BadgeStatus::passing : BadgeStatus::failing;
    }
    return running ? BadgeStatus::building : BadgeStatus::unknown;
}

std::string badge_svg(std::string_view label, std::string_view message, std::string_view colour) {
    const int lw = text_width(label);
    const int mw = text_width(message);
    const std::string l = html_escape(label);
    const std::string m = html_escape(message);
    const std::string w = std::to_string(lw + mw);
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"20\" role=\"img\" aria-label=\"" +
           l + ": " + m + "\"><title>" + l + ": " + m + "</title><clipPath id=\"r\"><rect width=\"" + w +
           "\" height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath><g clip-path=\"url(#r)\"><rect width=\"" +
           std::to_string(lw) + "\" height=\"20\" fill=\"#555\"/><rect x=\"" + std::to_string(lw) + "\" width=\"" +
           std::to_string(mw) + "\" height=\"20\" fill=\"" + colour_hex(colour) +
           "\"/></g><g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" "
           "font-size=\"11\"><text x=\"" +
           std::to_string(lw / 2) + "\" y=\"14\">" + l + "</text><text x=\"" + std::to_string(lw + mw / 2) +
           "\" y=\"14\">" + m + "</text></g></svg>";
}

std::string badge_json(std::string_view label, std::string_view message, std::string_view colour) {
    return util::to_json_string(
        nlohmann::json{{"schemaVersion", 1}, {"label", label}, {"message", message}, {"color", colour}});
}

void BadgeRoutes::add_routes(http::RouteTable& table, http::RateLimiter* limiter, PageWorkers* workers) {
    table.add_async(
        "GET", "/badge/{owner}/{file}", "badge",
        on_workers(workers, http::rate_limited(limiter, [this](const http::ServerRequest&, const http::PathParams& p) {
                       return answer(p.get("owner"), "", p.get("file"));
                   })));
    table.add_async(
        "GET", "/badge/{owner}/{repo}/{file}", "badge",
        on_workers(workers, http::rate_limited(limiter, [this](const http::ServerRequest&, const http::PathParams& p) {
                       return answer(p.get("owner"), p.get("repo"), p.get("file"));
                   })));
}

namespace {

// The newest build of `repository` in `state` that pushes `tag` (any when empty), read newest first through
// the store's (repository, state) index, k_badge_page at a time; nullopt when none in k_badge_pages pages.
util::Result<std::optional<storage::Build>> newest_badge_build(storage::Store& store, const std::string& repository,
                                                               storage::BuildState state, std::string_view tag) {
    storage::BuildFilter filter;
    filter.repository = repository;
    filter.state = state;
    filter.limit = tag.empty() ? 1 : k_badge_page;
    for (int page = 0; page < k_badge_pages; ++page) {
        auto builds = store.list_builds(filter);
        if (!builds) return builds.error();
        for (auto& b : *builds) {
            if (tag.empty() || std::find(b.tags.begin(), b.tags.end(), tag) != b.tags.end()) {
                return std::optional<storage::Build>(std::move(b));
            }
        }
        if (builds->size() < static_cast<std::size_t>(filter.limit)) break;
        filter.before_id = builds->back().id;
    }
    return std::optional<storage::Build>{};
}

}  // namespace

util::Result<BadgeStatus> BadgeRoutes::status(const std::string& repository, std::string_view tag) {
    // Only the newest succeeded, failed and running builds decide the badge: reading those three by state
    // costs the same however many builds are queued or were canceled in between.
    std::vector<storage::Build> deciding;
    for (auto state : {storage::BuildState::succeeded, storage::BuildState::failed, storage::BuildState::running}) {
        auto b = newest_badge_build(m_store, repository, state, tag);
        if (!b) return b.error();
        if (*b) deciding.push_back(std::move(**b));
    }
    std::sort(deciding.begin(), deciding.end(), [](const auto& a, const auto& b) { return a.id > b.id; });
    bool verdict = false;
    return badge_status(deciding, tag, verdict);
}

// `repo` empty: /badge/{owner}/{repo}.{ext}; else /badge/{owner}/{repo}/{tag}.{ext}.
http::ServerResponse BadgeRoutes::answer(const std::string& owner, const std::string& repo, const std::string& file) {
    const auto dot = file.rfind('.');
    const std::string ext = dot == std::string::npos ? "" : file.substr(dot + 1);
    if (ext != "svg" && ext != "json") {
        return http::json_error(404, "a badge is /badge/OWNER/REPO.svg or .json, /badge/OWNER/REPO/TAG.svg or .json");
    }
    const std::string stem = file.substr(0, dot);
    const std::string name = owner + "/" + (repo.empty() ? stem : repo);
    const std::string tag = repo.empty() ? "" : stem;
    const config::RepositoryConfig* configured = m_config.find_repository(name);
    unsigned code = 200;
    std::string_view message = "not found";
    std::string_view colour = "lightgrey";
    if (configured == nullptr) {
        code = 404;
    } else {
        auto s = status(configured->github, tag);
        if (!s) return http::json_error(s.error());
        message = badge_message(*s);
        colour = badge_colour(*s);
    }
    http::ServerResponse r;
    r.status = code;
    r.content_type = ext == "svg" ? "image/svg+xml; charset=utf-8" : "application/json";
    r.body = ext == "svg" ? badge_svg("build", message, colour) : badge_json("build", message, colour);
    r.headers.emplace_back("Cache-Control", std::string(k_badge_cache));
    return r;
}

}  // namespace hookyard::api
