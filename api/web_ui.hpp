#pragma once
// The web dashboard, server-rendered HTML (readable without JavaScript; app.js only refreshes live parts):
//   GET  /                         → /builds
//   GET  /builds?repository=&state=&ref=&before=     newest first; &fragment=rows gives the table rows only
//   GET  /builds/{id}              stages, pushed images, notifications, the log (its tail for big logs;
//                                  ?log_from=N shows the part from byte N)
//   GET  /builds/{id}/live?offset=&line=             JSON for the live page: state, stages, new log lines
//   POST /builds/{id}/retry | /builds/{id}/cancel    operators
//   GET  /repositories             rules, last build per rule, webhook URL
//   POST /repositories/{owner}/{repo}/rules/{n}/build   "Build now", operators
//   GET  /queue                    running, queued and recently superseded builds, concurrency in use
//   GET|POST /login, GET|POST /logout
//   GET  /ui/app.css, /ui/app.js   embedded assets
// Reading needs a session unless ui.public; every POST needs the CSRF token of its form. A page never shows
// a secret (no tokens, no subscriber URLs). /api/v1 is not served here and never accepts the cookie.

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/page_workers.hpp"
#include "api/pipeline_status.hpp"
#include "api/web_html.hpp"
#include "api/web_session.hpp"
#include "config/model.hpp"
#include "http/rate_limiter.hpp"
#include "http/route_table.hpp"
#include "storage/store.hpp"

namespace hookyard::api {

class WebUi {
public:
    // Queues builds of one rule of a repository on the rule's branch or tag, as the trigger URL does.
    using BuildNow =
        std::function<util::Result<std::vector<storage::BuildId>>(const config::RepositoryConfig&, std::size_t rule)>;

    // Everything must outlive this; `on_queued` (after a retry) and `build_now` may be empty ("Build now"
    // then answers 501). Thread-safe.
    WebUi(const config::Config& config, storage::Store& store, PipelineStatus& status, std::function<void()> on_queued,
          BuildNow build_now);

    // The routes above, label "ui"; POST /login behind `limiter` (null = no limit); the pages that read the
    // store answered on `workers` (null = on the server's thread). This must outlive the table.
    void add_routes(http::RouteTable& table, http::RateLimiter* limiter, PageWorkers* workers);

    // Most live requests answered at once; more get 503 and the page retries later.
    static constexpr int k_max_followers = 64;

private:
    struct Visitor {
        std::optional<Session> session;
        PageViewer viewer;
    };
    enum class Need { read, act };
    using Page = http::ServerResponse (WebUi::*)(const http::ServerRequest&, const http::PathParams&, const Visitor&);

    // Adds a route that runs `handler` only for a visitor allowed `need` (and, for POST, with the CSRF
    // token); others get the login page (GET) or 403.
    void add_page(http::RouteTable& table, std::string method, std::string_view pattern, Need need, Page handler,
                  PageWorkers* workers);
    Visitor visitor(const http::ServerRequest& req) const;

    http::ServerResponse login_page(const http::ServerRequest& req, const std::string& error, unsigned status);
    http::ServerResponse login(const http::ServerRequest& req);
    http::ServerResponse logout(const http::ServerRequest& req);

    http::ServerResponse builds(const http::ServerRequest& req, const http::PathParams& p, const Visitor& v);
    http::ServerResponse build(const http::ServerRequest& req, const http::PathParams& p, const Visitor& v);
    http::ServerResponse live(const http::ServerRequest& req, const http::PathParams& p, const Visitor& v);
    http::ServerResponse retry(const http::ServerRequest& req, const http::PathParams& p, const Visitor& v);
    http::ServerResponse cancel(const http::ServerRequest& req, const http::PathParams& p, const Visitor& v);
    // Runs `action` on the build of path param {id}: a redirect to the build it returns, else a page naming
    // why `verb` failed.
    http::ServerResponse act_on_build(const http::PathParams& p, const Visitor& v, const std::string& verb,
                                      const std::function<util::Result<storage::Build>(storage::BuildId)>& action);
    http::ServerResponse repositories(const http::ServerRequest& req, const http::PathParams& p, const Visitor& v);
    http::ServerResponse build_now(const http::ServerRequest& req, const http::PathParams& p, const Visitor& v);
    http::ServerResponse queue(const http::ServerRequest& req, const http::PathParams& p, const Visitor& v);

    // Parts of the build page, also sent by live().
    std::string build_header_html(const storage::Build& b, const Visitor& v) const;
    static std::string stages_html(const storage::Build& b);
    std::string notifications_html(storage::BuildId id);
    std::string build_row_html(const storage::Build& b) const;

    const config::Config& m_config;
    storage::Store& m_store;
    PipelineStatus& m_status;
    std::function<void()> m_on_queued;
    BuildNow m_build_now;
    WebAuth m_auth;
    std::atomic<int> m_followers{0};
};

// An HTML page answer with `status`; no caching, framing refused.
http::ServerResponse html_response(unsigned status, std::string body);
// 303 See Other to `location`.
http::ServerResponse redirect(const std::string& location);
// The value of `name` in the query string of a request target; "" when absent.
std::string query_value(std::string_view target, std::string_view name);

}  // namespace hookyard::api
