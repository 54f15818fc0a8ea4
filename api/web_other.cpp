// The repositories page (with "Build now") and the queue page.
#include <charconv>
#include <optional>
#include <vector>

#include "api/web_ui.hpp"
#include "config/rules.hpp"

namespace hookyard::api {
namespace {

// The queue page lists the newest this many builds of each state.
constexpr int k_queue_rows = 50;
constexpr int k_queue_superseded_rows = 20;

std::string repo_rule_source(const config::Rule& r) { return r.is_regex ? "/" + r.source + "/" : r.source; }

std::string rule_table_row(const config::RepositoryConfig& repo, std::size_t i, const storage::Build* last,
                           const PageViewer& viewer) {
    const config::Rule& r = repo.rules[i];
    std::string row = "<tr><td>" + std::string(config::to_string(r.source_type)) + "</td><td><code>" +
                      html_escape(repo_rule_source(r)) + "</code></td><td><code>" + html_escape(r.tag) +
                      "</code></td><td>" + html_escape(r.dockerfile) + "</td><td>" + html_escape(r.context) +
                      "</td><td>" + (r.autobuild ? "on" : "off") + "</td><td>";
    if (last != nullptr) {
        row += "<a href=\"/builds/" + std::to_string(last->id) + "\">#" + std::to_string(last->id) + "</a> " +
               state_badge(last->state);
    } else {
        row += "–";
    }
    row += "</td><td>";
    if (viewer.operator_role && !r.is_regex) {
        row += post_button("/repositories/" + url_encode(repo.github) + "/rules/" + std::to_string(i) + "/build",
                           "Build now", viewer.csrf, "btn build-now");
    }
    return row + "</td></tr>";
}

// The newest build of each rule of `repo` (nullopt: none yet, or the store cannot be read): one indexed
// read of one build per rule (builds_by_rule), so the page costs the same at any history size.
std::vector<std::optional<storage::Build>> last_build_per_rule(storage::Store& store,
                                                               const config::RepositoryConfig& repo) {
    std::vector<std::optional<storage::Build>> last(repo.rules.size());
    storage::BuildFilter f;
    f.repository = repo.github;
    f.limit = 1;
    for (std::size_t i = 0; i < last.size(); ++i) {
        f.rule = i;
        auto newest = store.list_builds(f);
        if (newest && !newest->empty()) last[i] = std::move(newest->front());
    }
    return last;
}

// The store's count of builds in `state`; 0 when the counters are unreadable.
std::size_t counted(const util::Result<storage::StoreStats>& stats, storage::BuildState state) {
    if (!stats) return 0;
    const auto it = stats->builds_by_state.find(state);
    return it == stats->builds_by_state.end() ? 0 : static_cast<std::size_t>(it->second);
}

}  // namespace

http::ServerResponse WebUi::repositories(const http::ServerRequest&, const http::PathParams&, const Visitor& v) {
    std::string base = m_config.server.public_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    std::string body =
        "<h1>Repositories</h1><p>Webhook URL to paste into GitHub (content type application/json, "
        "the push event, server.webhook_secret as the secret): <code id=\"webhook-url\">" +
        html_escape((base.empty() ? std::string("http://HOST:PORT") : base) + "/hooks/github") + "</code></p>";
    for (const auto& repo : m_config.repositories) {
        const auto last = last_build_per_rule(m_store, repo);
        body += "<section class=\"repo\"><h2>" + html_escape(repo.github) + "</h2><p>Pushes to <code>" +
                html_escape(config::image_repository(repo)) +
                "</code></p><table><thead><tr><th>Source type</th>"
                "<th>Source</th><th>Docker tag</th><th>Dockerfile</th><th>Build context</th><th>Autobuild</th>"
                "<th>Last build</th><th></th></tr></thead><tbody>";
        for (std::size_t i = 0; i < repo.rules.size(); ++i) {
            body += rule_table_row(repo, i, last[i] ? &*last[i] : nullptr, v.viewer);
        }
        body += "</tbody></table>";
        body += "<p>Badge: <code>![build](" + html_escape(base) + "/badge/" + html_escape(repo.github) +
                ".svg)</code></p></section>";
    }
    if (m_config.repositories.empty()) body += "<p>No repositories are configured.</p>";
    return html_response(200, page("Repositories", v.viewer, body));
}

http::ServerResponse WebUi::build_now(const http::ServerRequest&, const http::PathParams& p, const Visitor& v) {
    const config::RepositoryConfig* repo = m_config.find_repository(p.get("owner") + "/" + p.get("repo"));
    std::size_t rule = 0;
    const std::string& text = p.get("rule");
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), rule);
    if (repo == nullptr || ec != std::errc() || end != text.data() + text.size() || rule >= repo->rules.size()) {
        return html_response(404, page("Not found", v.viewer, "<h1>No such repository or rule</h1>"));
    }
    if (!m_build_now)
        return html_response(501, page("Build now", v.viewer, "<h1>Build now is not available here</h1>"));
    auto ids = m_build_now(*repo, rule);
    if (!ids || ids->empty()) {
        const std::string why = ids ? "this rule matches no branch or tag to build" : ids.error().message;
        return html_response(409,
                             page("Build now", v.viewer, "<h1>Nothing queued</h1><p>" + html_escape(why) + "</p>"));
    }
    return redirect("/builds/" + std::to_string(ids->front()));
}

http::ServerResponse WebUi::queue(const http::ServerRequest&, const http::PathParams&, const Visitor& v) {
    std::string body = "<h1>Queue</h1>";
    for (const auto& reason : m_status.degraded()) body += "<p class=\"error\">" + html_escape(reason) + "</p>";
    // Totals from the store's counters (cheap at any size); the tables show the newest few of each.
    const auto stats = m_status.stats();
    std::size_t running_count = 0;
    for (auto state : {storage::BuildState::running, storage::BuildState::queued, storage::BuildState::superseded}) {
        storage::BuildFilter f;
        f.state = state;
        f.limit = state == storage::BuildState::superseded ? k_queue_superseded_rows : k_queue_rows;
        auto list = m_store.list_builds(f);
        if (!list) {
            return html_response(
                503, page("Queue", v.viewer, "<p class=\"error\">" + html_escape(list.error().message) + "</p>"));
        }
        const std::size_t total = std::max(list->size(), counted(stats, state));
        if (state == storage::BuildState::running) running_count = total;
        const std::string name(storage::to_string(state));
        body += "<h2>" +
                (state == storage::BuildState::superseded ? "Recently superseded"
                                                          : name + " (" + std::to_string(total) + ")") +
                "</h2><table class=\"builds\"><tbody id=\"q-" + name + "\">";
        for (const auto& b : *list) body += build_row_html(b);
        body += "</tbody></table>";
    }
    body.insert(body.find("</h1>") + 5, "<p id=\"concurrency\">Concurrency in use: " + std::to_string(running_count) +
                                            " of " + std::to_string(m_config.builder.concurrency) + "</p>");
    return html_response(200, page("Queue", v.viewer, body));
}

}  // namespace hookyard::api
