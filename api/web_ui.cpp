#include "api/web_ui.hpp"

#include <charconv>

#include "api/web_assets.hpp"

namespace hookyard::api {
namespace {

bool web_parse_id(const std::string& text, storage::BuildId& id) {
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    return !text.empty() && ec == std::errc() && p == text.data() + text.size() && id > 0;
}

http::ServerResponse asset(std::string_view content_type, std::string_view body) {
    http::ServerResponse r;
    r.content_type = std::string(content_type);
    r.body = std::string(body);
    r.headers.emplace_back("Cache-Control", "public, max-age=300");
    return r;
}

}  // namespace

http::ServerResponse html_response(unsigned status, std::string body) {
    http::ServerResponse r;
    r.status = status;
    r.content_type = "text/html; charset=utf-8";
    r.body = std::move(body);
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("X-Frame-Options", "DENY");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    // Only our own script and styles: an injected <script> would not run even if escaping failed somewhere.
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "frame-ancestors 'none'; form-action 'self'");
    return r;
}

http::ServerResponse redirect(const std::string& location) {
    http::ServerResponse r = html_response(303, "<a href=\"" + html_escape(location) + "\">continue</a>\n");
    r.headers.emplace_back("Location", location);
    return r;
}

std::string query_value(std::string_view target, std::string_view name) {
    const auto q = target.find('?');
    return q == std::string_view::npos ? "" : form_value(target.substr(q + 1), name);
}

WebUi::WebUi(const config::Config& config, storage::Store& store, PipelineStatus& status,
             std::function<void()> on_queued, BuildNow build_now)
    : m_config(config),
      m_store(store),
      m_status(status),
      m_on_queued(std::move(on_queued)),
      m_build_now(std::move(build_now)),
      m_auth(config) {}

void WebUi::add_routes(http::RouteTable& table, http::RateLimiter* limiter, PageWorkers* workers) {
    table.add("GET", "/", "ui",
              [](const http::ServerRequest&, const http::PathParams&) { return redirect("/builds"); });
    table.add("GET", "/ui/app.css", "ui",
              [](const http::ServerRequest&, const http::PathParams&) { return asset("text/css", k_app_css); });
    table.add("GET", "/ui/app.js", "ui",
              [](const http::ServerRequest&, const http::PathParams&) { return asset("text/javascript", k_app_js); });
    table.add("GET", "/login", "ui",
              [this](const http::ServerRequest& req, const http::PathParams&) { return login_page(req, "", 200); });
    table.add("POST", "/login", "ui",
              http::rate_limited(
                  limiter, [this](const http::ServerRequest& req, const http::PathParams&) { return login(req); }));
    table.add("GET", "/logout", "ui", [this](const http::ServerRequest& req, const http::PathParams&) {
        const Visitor v = visitor(req);
        if (!v.session) return redirect("/login");
        return html_response(
            200, page("Log out", v.viewer, "<h1>Log out</h1>" + post_button("/logout", "Log out", v.viewer.csrf)));
    });
    table.add("POST", "/logout", "ui",
              [this](const http::ServerRequest& req, const http::PathParams&) { return logout(req); });
    add_page(table, "GET", "/builds", Need::read, &WebUi::builds, workers);
    add_page(table, "GET", "/builds/{id}", Need::read, &WebUi::build, workers);
    add_page(table, "GET", "/builds/{id}/live", Need::read, &WebUi::live, workers);
    add_page(table, "POST", "/builds/{id}/retry", Need::act, &WebUi::retry, workers);
    add_page(table, "POST", "/builds/{id}/cancel", Need::act, &WebUi::cancel, workers);
    add_page(table, "GET", "/repositories", Need::read, &WebUi::repositories, workers);
    add_page(table, "POST", "/repositories/{owner}/{repo}/rules/{rule}/build", Need::act, &WebUi::build_now, workers);
    add_page(table, "GET", "/queue", Need::read, &WebUi::queue, workers);
}

void WebUi::add_page(http::RouteTable& table, std::string method, std::string_view pattern, Need need, Page handler,
                     PageWorkers* workers) {
    const bool post = method == "POST";
    table.add_async(std::move(method), pattern, "ui",
                    on_workers(workers, [this, need, handler, post](const http::ServerRequest& req,
                                                                    const http::PathParams& params) {
                        const Visitor v = visitor(req);
                        if (post && (!v.session || !m_auth.check_csrf(*v.session, form_value(req.body, "csrf")))) {
                            return html_response(403, page("Refused", v.viewer,
                                                           "<h1>Refused</h1><p>This form is stale or did not come from "
                                                           "this dashboard (no valid CSRF token). Reload the page and "
                                                           "try again.</p>"));
                        }
                        if (need == Need::act && !v.viewer.operator_role) {
                            return html_response(403, page("Refused", v.viewer,
                                                           "<h1>Refused</h1><p>Only operators may trigger, cancel or "
                                                           "retry builds; ask for role: operator in ui.users.</p>"));
                        }
                        if (need == Need::read && !v.session && !m_auth.public_read()) {
                            return redirect("/login?next=" + url_encode(req.target));
                        }
                        return (this->*handler)(req, params, v);
                    }));
}

WebUi::Visitor WebUi::visitor(const http::ServerRequest& req) const {
    Visitor v;
    v.session = m_auth.session(req.header("cookie"));
    if (v.session) {
        v.viewer = PageViewer{v.session->name, v.session->operator_role, m_auth.csrf_token(*v.session)};
    }
    return v;
}

http::ServerResponse WebUi::login_page(const http::ServerRequest& req, const std::string& error, unsigned status) {
    std::string body = "<h1>Log in</h1>";
    if (!m_auth.has_logins()) {
        body += "<p class=\"error\">No one can log in: add ui.users (or server.api_token) to the config.</p>";
    }
    if (!error.empty()) body += "<p class=\"error\">" + html_escape(error) + "</p>";
    std::string next = query_value(req.target, "next");
    if (next.empty()) next = form_value(req.body, "next");
    body +=
        "<form method=\"post\" action=\"/login\" class=\"login\"><label>Token <input type=\"password\" "
        "name=\"token\" id=\"token\" autocomplete=\"current-password\" required></label>"
        "<input type=\"hidden\" name=\"csrf\" value=\"" +
        html_escape(m_auth.login_csrf()) +
        "\">"
        "<input type=\"hidden\" name=\"next\" value=\"" +
        html_escape(next) +
        "\">"
        "<button type=\"submit\" id=\"login\">Log in</button></form>";
    return html_response(status, page("Log in", PageViewer{}, body));
}

http::ServerResponse WebUi::login(const http::ServerRequest& req) {
    if (!m_auth.check_login_csrf(form_value(req.body, "csrf"))) {
        return login_page(req, "The login form expired or did not come from this dashboard; try again.", 403);
    }
    const auto session = m_auth.login(form_value(req.body, "token"));
    if (!session) return login_page(req, "Unknown token.", 401);
    // Only a local path: an absolute URL here would make the login form an open redirect.
    std::string next = form_value(req.body, "next");
    if (next.empty() || next[0] != '/' || next.starts_with("//")) next = "/builds";
    http::ServerResponse r = redirect(next);
    r.headers.emplace_back("Set-Cookie", m_auth.set_cookie(*session));
    return r;
}

http::ServerResponse WebUi::logout(const http::ServerRequest& req) {
    const Visitor v = visitor(req);
    if (v.session && !m_auth.check_csrf(*v.session, form_value(req.body, "csrf"))) {
        return html_response(403, page("Refused", v.viewer, "<h1>Refused</h1><p>No valid CSRF token.</p>"));
    }
    http::ServerResponse r = redirect("/login");
    r.headers.emplace_back("Set-Cookie", m_auth.clear_cookie());
    return r;
}

http::ServerResponse WebUi::retry(const http::ServerRequest&, const http::PathParams& p, const Visitor& v) {
    return act_on_build(p, v, "retry", [this](storage::BuildId id) {
        auto b = m_store.retry_build(id);
        if (b && m_on_queued) m_on_queued();
        return b;
    });
}

http::ServerResponse WebUi::cancel(const http::ServerRequest&, const http::PathParams& p, const Visitor& v) {
    return act_on_build(p, v, "cancel", [this](storage::BuildId id) { return m_store.cancel_build(id); });
}

http::ServerResponse WebUi::act_on_build(const http::PathParams& p, const Visitor& v, const std::string& verb,
                                         const std::function<util::Result<storage::Build>(storage::BuildId)>& action) {
    storage::BuildId id = 0;
    if (!web_parse_id(p.get("id"), id)) {
        return html_response(404, page("Not found", v.viewer, "<h1>No such build</h1>"));
    }
    auto b = action(id);
    if (!b) {
        const unsigned status = b.error().kind == util::ErrorKind::not_found ? 404 : 409;
        return html_response(status, page("Cannot " + verb, v.viewer,
                                          "<h1>Cannot " + verb + "</h1><p>" + html_escape(b.error().message) + "</p>"));
    }
    // The retry's new build, or the canceled build itself.
    return redirect("/builds/" + std::to_string(b->id));
}

}  // namespace hookyard::api
