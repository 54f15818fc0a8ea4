#include "webhook/intake/github_handler.hpp"

#include <nlohmann/json.hpp>

#include "config/rules.hpp"
#include "storage/new_build.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/signature.hpp"
#include "webhook/intake/clone_url.hpp"
#include "webhook/intake/pull_request.hpp"

namespace hookyard::intake {
namespace {

std::string dump(const nlohmann::json& j) { return util::to_json_string(j); }

storage::NewBuild to_new_build(const config::Config& config, const config::RepositoryConfig& repo, const PushEvent& ev,
                               const config::PlannedBuild& p) {
    storage::NewBuild b = storage::make_new_build(repo, p, ev.ref);
    b.commit = ev.after;
    b.clone_url = clone_url_for(config, repo);  // never the payload's (see clone_url.hpp)
    b.head_commit_message = ev.head_commit_message;
    b.pusher = ev.pusher;
    b.forced = ev.forced;
    b.trigger_reason = (ev.forced ? "forced push of " : "push of ") + ev.ref + " (" + ev.after.substr(0, 7) + ")" +
                       (ev.pusher.empty() ? "" : " by " + ev.pusher);
    return b;
}

// GitHub sends a GUID; anything else that long or unprintable is not a delivery id we want to store.
bool plausible_delivery_id(std::string_view id) {
    if (id.size() > 128) return false;
    for (unsigned char c : id) {
        if (c < 0x21 || c > 0x7e) return false;
    }
    return true;
}

bool plausible_event(std::string_view event) {
    if (event.empty() || event.size() > 64) return false;
    for (char c : event) {
        // GitHub's names are letters, digits and _ (projects_v2_item); nothing else reaches a label or log.
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

}  // namespace

struct GithubHandler::Incoming {
    std::string raw_event;
    // The event name becomes a metrics label and a log word: only GitHub's shape (letters, digits and _)
    // passes, and it counts only once the signature proved the sender.
    std::string event;
    std::string delivery;
    bool verified = false;
};

struct GithubHandler::Rejection {
    unsigned status = 400;
    std::string message;
};

struct GithubHandler::Plan {
    std::optional<Rejection> rejection;
    std::string ignored;  // why nothing is built, when nothing is
    const config::RepositoryConfig* repo = nullptr;
    std::vector<storage::NewBuild> builds;
};

GithubHandler::GithubHandler(const config::Config& config, storage::Store& store, DeliveryCounter count,
                             std::function<void()> on_queued)
    : m_config(config), m_store(store), m_count(std::move(count)), m_on_queued(std::move(on_queued)) {}

void GithubHandler::add_routes(http::RouteTable& table) {
    table.add_async("POST", "/hooks/github", "github",
                    [this](const http::ServerRequest& req, const http::PathParams&, http::Responder respond) {
                        handle(req, std::move(respond));
                    });
}

void GithubHandler::handle(const http::ServerRequest& req, http::Responder respond) {
    Incoming in{req.header("x-github-event"), "", req.header("x-github-delivery"), false};
    in.event = plausible_event(in.raw_event) ? in.raw_event : std::string();

    // 1. Verify: size, the signature over the raw bytes, then the headers every delivery carries.
    if (auto rejection = verify(req, in)) return reject(in, *rejection, respond);
    // 2. Parse the payload, JSON or form-encoded, once into the fields we use.
    auto push = parse_payload(req.header("content-type"), req.body);
    if (!push) return reject(in, {400, push.error().message}, respond);
    // 3. Events other than push are acknowledged and dropped.
    if (in.event == "ping") {
        count(in.event, "ignored");
        return respond(http::json_response(200, dump({{"delivery", in.delivery}, {"pong", true}, {"zen", push->zen}})));
    }
    if (in.event == "pull_request") return handle_pull_request(in, *push, std::move(respond));
    if (in.event != "push") {
        return ignore(in, "event '" + in.event + "' does not trigger builds; hookyard builds on push and pull_request",
                      respond);
    }
    // 4. Plan: deletions, unknown repositories and unmatched refs queue nothing.
    Plan p = plan(*push);
    if (p.rejection) return reject(in, *p.rejection, respond);
    if (p.repo == nullptr) return ignore(in, p.ignored, respond);
    // 5. Store and answer once durable.
    store(in, *p.repo, std::move(p.builds), std::move(respond));
}

void GithubHandler::handle_pull_request(const Incoming& in, const PushEvent& event, http::Responder respond) {
    auto p = plan_pull_request(m_config, event);
    if (!p.rejected.empty()) return reject(in, {400, p.rejected}, respond);
    if (p.repo == nullptr) return ignore(in, p.ignored, respond);
    if (!p.close) return store(in, *p.repo, std::move(p.builds), std::move(respond));
    // Closed (merged or not): what it queued would test code nobody merges any more.
    auto canceled = cancel_pull_request(m_store, p.repo->github, event.pr.number);
    if (!canceled) {
        count(in.event, "failed");
        return respond(
            http::json_error(503, "could not cancel the pull request's builds: " + canceled.error().message));
    }
    count(in.event, "accepted");
    respond(http::json_response(200, dump({{"delivery", in.delivery}, {"canceled", *canceled}})));
}

std::optional<GithubHandler::Rejection> GithubHandler::verify(const http::ServerRequest& req, Incoming& in) const {
    if (req.body.size() > http::k_max_body_bytes) return Rejection{413, "payload larger than GitHub's 25 MiB limit"};
    if (auto st =
            util::verify_github_signature(m_config.server.webhook_secret, req.body, req.header("x-hub-signature-256"));
        !st) {
        return Rejection{401, st.error().message};
    }
    in.verified = true;
    if (in.raw_event.empty()) return Rejection{400, "missing X-GitHub-Event header: not a GitHub webhook delivery"};
    if (in.event.empty()) {
        return Rejection{400, "X-GitHub-Event is not a GitHub event name (letters, digits and _)"};
    }
    if (in.delivery.empty()) {
        return Rejection{400, "missing X-GitHub-Delivery header: not a GitHub webhook delivery"};
    }
    if (!plausible_delivery_id(in.delivery)) {
        return Rejection{400, "X-GitHub-Delivery must be at most 128 printable ASCII characters (GitHub sends a GUID)"};
    }
    return std::nullopt;
}

GithubHandler::Plan GithubHandler::plan(const PushEvent& push) const {
    Plan out;
    if (auto st = check_push(push); !st) {
        out.rejection = Rejection{400, st.error().message};
        return out;
    }
    if (push.deleted) {
        out.ignored = "the push deletes " + push.ref + "; nothing to build";
        return out;
    }
    if (push.ref.size() > k_max_ref_bytes) {
        // Acknowledged, not refused: GitHub would show a 4xx as a failing hook, and no rule builds such a ref.
        out.ignored = "ref longer than " + std::to_string(k_max_ref_bytes) + " bytes; nothing to build";
        return out;
    }
    auto found = find_payload_repository(m_config, push.repository, push.clone_url);
    if (found.repo == nullptr) {
        out.ignored = std::move(found.ignored);
        if (!found.rejected.empty()) out.rejection = Rejection{400, std::move(found.rejected)};
        return out;
    }
    const auto* repo = found.repo;
    config::PushInfo info;
    info.ref = push.ref;
    info.changed_files = push.changed_files;
    info.head_commit_message = push.head_commit_message;
    info.commit = push.after;
    info.time_s = storage::now_ms() / 1000;
    const auto planned = config::plan_builds(*repo, info);
    if (planned.builds.empty()) {
        out.ignored = planned.skipped_reason.empty() ? "no rule matches " + push.ref : planned.skipped_reason;
        return out;
    }
    out.repo = repo;
    for (const auto& p : planned.builds) out.builds.push_back(to_new_build(m_config, *repo, push, p));
    return out;
}

void GithubHandler::store(const Incoming& in, const config::RepositoryConfig& repo,
                          std::vector<storage::NewBuild> builds, http::Responder respond) {
    // One durable transaction: delivery id + builds. Answer only after the commit.
    storage::Delivery record{in.delivery, in.event, repo.github, storage::now_ms()};
    m_store.accept_delivery(
        std::move(record), std::move(builds),
        [this, delivery = in.delivery, event = in.event, respond](util::Result<storage::AcceptOutcome> r) {
            if (!r) {
                count(event, "failed");
                util::log_error("webhook", "delivery " + delivery + " not stored: " + r.error().message);
                // GitHub does not redeliver by itself: the hook's "Recent Deliveries" page does, by hand.
                auto busy = http::json_error(503,
                                             "could not store the delivery (the database is unreachable); "
                                             "redeliver it from the webhook's Recent Deliveries page");
                busy.headers.emplace_back("Retry-After", "30");
                respond(std::move(busy));
                return;
            }
            count(event, r->duplicate ? "duplicate" : "accepted");
            if (!r->duplicate && m_on_queued) m_on_queued();
            nlohmann::json body{{"delivery", delivery}, {"builds", r->build_ids}};
            if (r->duplicate) body["duplicate"] = true;
            respond(http::json_response(r->duplicate ? 200 : 202, dump(body)));
        });
}

void GithubHandler::reject(const Incoming& in, const Rejection& rejection, const http::Responder& respond) const {
    count(!in.verified ? "unverified" : in.event.empty() ? "unknown" : in.event, "rejected");
    const std::string shown = plausible_delivery_id(in.delivery) ? in.delivery : "(invalid id)";  // no log injection
    util::log_info("webhook",
                   "delivery " + shown + " rejected (" + std::to_string(rejection.status) + "): " + rejection.message);
    respond(http::json_error(rejection.status, rejection.message));
}

void GithubHandler::ignore(const Incoming& in, const std::string& reason, const http::Responder& respond) const {
    count(in.event, "ignored");
    respond(http::json_response(200, dump({{"delivery", in.delivery}, {"ignored", true}, {"reason", reason}})));
}

void GithubHandler::count(std::string_view event, std::string_view outcome) const {
    if (m_count) m_count(event, outcome);
}

}  // namespace hookyard::intake
