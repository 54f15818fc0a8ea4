// The builds list, the build page and its live JSON.
#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "api/web_ui.hpp"
#include "util/json.hpp"

namespace hookyard::api {
namespace {

constexpr int k_builds_per_page = 50;
// The build page first shows at most this much of the log's end; earlier parts load on demand.
constexpr std::int64_t k_log_tail_bytes = 256 * 1024;
constexpr std::size_t k_log_view_bytes = 1024 * 1024;

std::int64_t builds_int(const std::string& text, std::int64_t fallback) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    return !text.empty() && ec == std::errc() && p == text.data() + text.size() && v >= 0 ? v : fallback;
}

std::string short_ref(const std::string& ref) {
    for (std::string_view prefix : {"refs/heads/", "refs/tags/"}) {
        if (ref.starts_with(prefix)) return ref.substr(prefix.size());
    }
    return ref;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// One more than a page of `f`'s newest builds (the extra one says there are older ones). A ref filter
// ("main" or "refs/heads/main") reads each full ref the short name stands for by the store's ref index and
// merges them, so it costs the same at any history size.
util::Result<std::vector<storage::Build>> builds_page(storage::Store& store, storage::BuildFilter f,
                                                      const std::string& ref) {
    f.limit = k_builds_per_page + 1;
    if (ref.empty()) return store.list_builds(f);
    const std::string name = short_ref(ref);
    std::vector<storage::Build> rows;
    for (const std::string& full : {name, "refs/heads/" + name, "refs/tags/" + name}) {
        f.ref = full;
        auto list = store.list_builds(f);
        if (!list) return list.error();
        for (auto& b : *list) rows.push_back(std::move(b));
    }
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.id > b.id; });
    if (rows.size() > static_cast<std::size_t>(f.limit)) rows.resize(static_cast<std::size_t>(f.limit));
    return rows;
}

std::string triggered_by(const storage::Build& b) {
    if (b.retry_of > 0) return "retry of #" + std::to_string(b.retry_of);
    if (!b.delivery.empty()) return "push by " + b.pusher;
    return b.pusher.empty() ? "trigger" : b.pusher;
}

// The whole lines of a log chunk (a line cut by the chunk's end waits for the next one, so neither a UTF-8
// sequence nor an escape sequence is split), and where the next read starts.
std::string_view whole_lines(const storage::LogChunk& chunk, std::int64_t offset, std::int64_t& next) {
    std::string_view data = chunk.data;
    const auto nl = data.rfind('\n');
    if (!chunk.complete && nl != std::string_view::npos) data = data.substr(0, nl + 1);
    // One line longer than a whole chunk is shown in pieces rather than never.
    if (!chunk.complete && nl == std::string_view::npos && data.size() < k_log_view_bytes) data = {};
    next = offset + static_cast<std::int64_t>(data.size());
    return data;
}

}  // namespace

std::string WebUi::build_row_html(const storage::Build& b) const {
    const std::string id = std::to_string(b.id);
    std::string tags;
    for (const auto& t : b.tags) tags += (tags.empty() ? "" : ", ") + t;
    return "<tr data-id=\"" + id + "\"><td><a href=\"/builds/" + id + "\">#" + id + "</a></td><td>" +
           html_escape(b.repository) + "</td><td>" + html_escape(short_ref(b.ref)) + "</td><td><code>" +
           html_escape(b.commit.substr(0, 7)) + "</code> " + html_escape(first_line(b.head_commit_message)) +
           "</td><td>" + html_escape(tags) + "</td><td>" + state_badge(b.state) + "</td><td>" +
           format_time(b.created_at) + "</td><td>" + format_time(b.started_at) + "</td><td>" +
           format_time(b.finished_at) + "</td><td>" + format_duration(build_duration_ms(b)) + "</td><td>" +
           html_escape(triggered_by(b)) + "</td></tr>\n";
}

http::ServerResponse WebUi::builds(const http::ServerRequest& req, const http::PathParams&, const Visitor& v) {
    storage::BuildFilter f;
    const std::string repository = query_value(req.target, "repository");
    const std::string state = query_value(req.target, "state");
    const std::string ref = query_value(req.target, "ref");
    if (!repository.empty()) f.repository = repository;
    if (!state.empty()) f.state = storage::parse_build_state(state);
    f.before_id = builds_int(query_value(req.target, "before"), 0);
    auto listed = builds_page(m_store, f, ref);
    if (!listed)
        return html_response(
            503, page("Builds", v.viewer, "<p class=\"error\">" + html_escape(listed.error().message) + "</p>"));
    std::vector<storage::Build>& rows = *listed;
    const bool more = rows.size() > static_cast<std::size_t>(k_builds_per_page);
    if (more) rows.resize(static_cast<std::size_t>(k_builds_per_page));
    std::string tbody;
    for (const auto& b : rows) tbody += build_row_html(b);
    if (query_value(req.target, "fragment") == "rows") return html_response(200, std::move(tbody));
    std::string body =
        "<h1>Builds</h1><form method=\"get\" action=\"/builds\" class=\"filters\">"
        "<input name=\"repository\" placeholder=\"owner/name\" value=\"" +
        html_escape(repository) + "\"><select name=\"state\"><option value=\"\">any state</option>";
    for (std::string_view s : {"queued", "running", "succeeded", "failed", "canceled", "superseded"}) {
        body += "<option" + std::string(s == state ? " selected" : "") + ">" + std::string(s) + "</option>";
    }
    body += "</select><input name=\"ref\" placeholder=\"branch or tag\" value=\"" + html_escape(ref) +
            "\"><button type=\"submit\">Filter</button></form>"
            "<table class=\"builds\"><thead><tr><th>Build</th><th>Repository</th><th>Ref</th><th>Commit</th>"
            "<th>Tags</th><th>State</th><th>Queued</th><th>Started</th><th>Finished</th><th>Duration</th>"
            "<th>Triggered by</th></tr></thead><tbody id=\"rows\"" +
            std::string(f.before_id == 0 ? " data-live=\"1\"" : "") + ">" + tbody + "</tbody></table>";
    if (rows.empty()) body += "<p>No builds yet.</p>";
    if (more && !rows.empty()) {
        body += "<p><a class=\"next\" href=\"/builds?repository=" + url_encode(repository) +
                "&amp;state=" + url_encode(state) + "&amp;ref=" + url_encode(ref) +
                "&amp;before=" + std::to_string(rows.back().id) + "\">Older builds →</a></p>";
    }
    return html_response(200, page("Builds", v.viewer, body));
}

std::string WebUi::build_header_html(const storage::Build& b, const Visitor& v) const {
    const std::string id = std::to_string(b.id);
    std::string tags;
    for (const auto& t : b.tags) tags += (tags.empty() ? "" : ", ") + t;
    std::string out = "<dl class=\"facts\"><dt>State</dt><dd id=\"state\">" + state_badge(b.state) +
                      "</dd>"
                      "<dt>Repository</dt><dd>" +
                      html_escape(b.repository) + "</dd><dt>Ref</dt><dd>" + html_escape(b.ref) +
                      "</dd><dt>Commit</dt><dd><code>" + html_escape(b.commit) + "</code> " +
                      html_escape(first_line(b.head_commit_message)) + "</dd><dt>Image</dt><dd>" +
                      html_escape(b.image) + " : " + html_escape(tags) + "</dd><dt>Queued</dt><dd>" +
                      format_time(b.created_at) + "</dd><dt>Started</dt><dd>" + format_time(b.started_at) +
                      "</dd><dt>Finished</dt><dd>" + format_time(b.finished_at) + "</dd><dt>Duration</dt><dd>" +
                      format_duration(build_duration_ms(b)) + "</dd><dt>Triggered by</dt><dd>" +
                      html_escape(triggered_by(b)) + "</dd>";
    if (!b.error.empty()) out += "<dt>Error</dt><dd class=\"error\">" + html_escape(b.error) + "</dd>";
    out += "</dl>";
    if (v.viewer.operator_role) {
        const bool terminal = storage::is_terminal(b.state);
        if (terminal) out += post_button("/builds/" + id + "/retry", "Retry", v.viewer.csrf, "btn retry");
        if (!terminal && !b.cancel_requested) {
            out += post_button("/builds/" + id + "/cancel", "Cancel", v.viewer.csrf, "btn cancel");
        }
    }
    return out;
}

std::string WebUi::stages_html(const storage::Build& b) {
    std::string out = "<ol class=\"stages\">";
    for (const auto& s : b.stages) {
        const std::int64_t ms = s.finished_at > 0 ? s.duration_ms : storage::now_ms() - s.started_at;
        out += "<li>" + state_badge(s.state) + " <b>" + html_escape(s.name) + "</b> " + format_duration(ms);
        if (!s.error.empty()) out += "<div class=\"error\">" + html_escape(s.error) + "</div>";
        out += "</li>";
    }
    if (b.stages.empty()) out += "<li>no stage has started</li>";
    return out + "</ol>";
}

std::string WebUi::notifications_html(storage::BuildId id) {
    auto list = m_store.list_notifications(id);
    if (!list) return "<p class=\"error\">" + html_escape(list.error().message) + "</p>";
    if (list->empty()) return "<p>None.</p>";
    // Targets and events only: a subscriber's URL may carry a token.
    std::string out =
        "<table><thead><tr><th>Target</th><th>Event</th><th>State</th><th>Attempts</th></tr></thead><tbody>";
    for (const auto& n : *list) {
        std::string attempts;
        for (const auto& a : n.history) {
            attempts += "<div>#" + std::to_string(a.attempt) + " " + format_time(a.at) + " → " +
                        (a.status > 0 ? std::to_string(a.status) : std::string("no answer")) + " in " +
                        format_duration(a.latency_ms) + (a.error.empty() ? "" : ": " + html_escape(a.error)) + "</div>";
        }
        out += "<tr><td>" + html_escape(n.target) + "</td><td>" + html_escape(n.event) + "</td><td>" +
               html_escape(storage::to_string(n.state)) + "</td><td>" + (attempts.empty() ? "–" : attempts) +
               "</td></tr>";
    }
    return out + "</tbody></table>";
}

http::ServerResponse WebUi::build(const http::ServerRequest& req, const http::PathParams& p, const Visitor& v) {
    const storage::BuildId id = builds_int(p.get("id"), 0);
    auto b = m_store.get_build(id);
    if (!b)
        return html_response(
            404, page("Not found", v.viewer, "<h1>No such build</h1><p>" + html_escape(b.error().message) + "</p>"));
    const std::string from_text = query_value(req.target, "log_from");
    std::int64_t offset =
        from_text.empty() ? std::max<std::int64_t>(0, b->log_size - k_log_tail_bytes) : builds_int(from_text, 0);
    auto chunk = m_store.read_log(id, offset, k_log_view_bytes);
    if (!chunk)
        return html_response(
            503, page("Build", v.viewer, "<p class=\"error\">" + html_escape(chunk.error().message) + "</p>"));
    if (from_text.empty() && offset > 0) {
        // The tail starts at a line boundary.
        const auto nl = chunk->data.find('\n');
        const std::size_t skip = nl == std::string::npos ? 0 : nl + 1;
        chunk->data.erase(0, skip);
        offset += static_cast<std::int64_t>(skip);
    }
    std::int64_t next = 0;
    std::int64_t lines = 0;
    const std::string log_html = log_to_html(whole_lines(*chunk, offset, next), 1, lines);
    const bool at_end = chunk->complete || next >= b->log_size;
    std::string body = "<h1>Build #" + std::to_string(id) + "</h1><section id=\"head\">" + build_header_html(*b, v) +
                       "</section><h2>Stages</h2><section id=\"stages\">" + stages_html(*b) + "</section>";
    body += "<h2>Pushed images</h2>";
    if (b->pushed.empty()) body += "<p>None yet.</p>";
    for (const auto& [image, digest] : b->pushed) {
        const std::string ref = html_escape(image.substr(0, image.rfind(':')) + "@" + digest);
        body += "<div class=\"image\"><code>" + html_escape(image) + "</code> <code>" + ref +
                "</code> <button type=\"button\" class=\"copy\" data-copy=\"" + ref + "\">Copy</button></div>";
    }
    body += "<h2>Notifications</h2>" + notifications_html(id) + "<h2>Log</h2>";
    if (offset > 0) {
        body += "<p class=\"note\">Showing the log from byte " + std::to_string(offset) +
                " (lines numbered from there). "
                "<a href=\"/builds/" +
                std::to_string(id) + "?log_from=0#log\">Show it from the start</a></p>";
    }
    body += "<pre id=\"log\" class=\"log\" data-build=\"" + std::to_string(id) + "\" data-offset=\"" +
            std::to_string(next) + "\" data-line=\"" + std::to_string(lines + 1) + "\"" +
            (at_end && !chunk->complete ? " data-live=\"1\"" : "") + ">" + log_html + "</pre>";
    if (!at_end) {
        body += "<p><a href=\"/builds/" + std::to_string(id) + "?log_from=" + std::to_string(next) +
                "#log\">Next part of the log →</a></p>";
    }
    return html_response(200, page("Build #" + std::to_string(id), v.viewer, body));
}

http::ServerResponse WebUi::live(const http::ServerRequest& req, const http::PathParams& p, const Visitor& v) {
    // Counted while answering: a page open in many tabs polls, and each poll reads the store.
    struct Follower {
        std::atomic<int>& n;
        ~Follower() { --n; }
    };
    if (++m_followers > k_max_followers) {
        --m_followers;
        http::ServerResponse r = http::json_error(503, "too many live pages open; retrying later");
        r.headers.emplace_back("Retry-After", "5");
        return r;
    }
    Follower guard{m_followers};
    const storage::BuildId id = builds_int(p.get("id"), 0);
    auto b = m_store.get_build(id);
    if (!b) return http::json_error(b.error());
    const std::int64_t offset = builds_int(query_value(req.target, "offset"), 0);
    const std::int64_t line = std::max<std::int64_t>(1, builds_int(query_value(req.target, "line"), 1));
    auto chunk = m_store.read_log(id, offset, k_log_view_bytes);
    if (!chunk) return http::json_error(chunk.error());
    std::int64_t next = 0;
    std::int64_t lines = 0;
    const std::string log_html = log_to_html(whole_lines(*chunk, offset, next), line, lines);
    nlohmann::json j{{"state", storage::to_string(b->state)},
                     {"terminal", storage::is_terminal(b->state)},
                     {"head_html", build_header_html(*b, v)},
                     {"stages_html", stages_html(*b)},
                     {"log_html", log_html},
                     {"offset", next},
                     {"line", line + lines},
                     {"complete", chunk->complete && next >= offset + static_cast<std::int64_t>(chunk->data.size())}};
    http::ServerResponse r = http::json_response(200, util::to_json_string(j));
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

}  // namespace hookyard::api
