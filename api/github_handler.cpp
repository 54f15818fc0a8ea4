// POST /hooks/github, as numbered steps: answer fast, leave the work to the queue.

#include <nlohmann/json.hpp>

#include "config/rules.hpp"
#include "storage/new_build.hpp"
#include "util/log.hpp"
#include "webhook/intake/github_event.hpp"
#include "api/router.hpp"
#include "util/signature.hpp"

namespace hookyard::api {
namespace {

http::ServerResponse ignored(std::string_view reason, const std::string& delivery) {
    return http::json_response(200, nlohmann::json{{"delivery", delivery}, {"ignored", true}, {"reason", reason}}.dump(
                                  -1, ' ', false, nlohmann::json::error_handler_t::replace));
}

storage::NewBuild to_new_build(const config::RepositoryConfig& repo, const intake::PushEvent& ev,
                               const config::PlannedBuild& p) {
    storage::NewBuild b = storage::make_new_build(repo, p, ev.ref);
    b.commit = ev.after;
    if (b.clone_url.empty()) b.clone_url = ev.clone_url;  // the config's clone_url wins
    b.head_commit_message = ev.head_commit_message;
    b.pusher = ev.pusher;
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
        if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
    }
    return true;
}

}  // namespace

void Router::github(const http::ServerRequest& req, http::Responder respond) {
    const std::string raw_event = req.header("x-github-event");
    const std::string delivery = req.header("x-github-delivery");
    // The event name becomes a metrics label and a log word: only GitHub's shape (lower case and _) passes,
    // and only once the signature proved the sender.
    bool verified = false;
    const std::string event = plausible_event(raw_event) ? raw_event : std::string();
    auto reject = [&](unsigned status, const std::string& message) {
        m_metrics.count_delivery(!verified ? "unverified" : event.empty() ? "unknown" : event, "rejected");
        const std::string shown = plausible_delivery_id(delivery) ? delivery : "(invalid id)";  // no log injection
        util::log_info("webhook", "delivery " + shown + " rejected (" + std::to_string(status) + "): " + message);
        respond(http::json_error(status, message));
    };

    // 1. Size, then the signature over the raw bytes, before anything parses them.
    if (req.body.size() > http::k_max_body_bytes) return reject(413, "payload larger than GitHub's 25 MiB limit");
    if (auto st = util::verify_github_signature(m_config.server.webhook_secret, req.body, req.header("x-hub-signature-256"));
        !st) {
        return reject(401, st.error().message);
    }
    verified = true;
    // 2. The headers every GitHub delivery carries.
    if (raw_event.empty()) return reject(400, "missing X-GitHub-Event header: not a GitHub webhook delivery");
    if (event.empty()) return reject(400, "X-GitHub-Event is not a GitHub event name (lower case letters and _)");
    if (delivery.empty()) return reject(400, "missing X-GitHub-Delivery header: not a GitHub webhook delivery");
    if (!plausible_delivery_id(delivery)) {
        return reject(400, "X-GitHub-Delivery must be at most 128 printable ASCII characters (GitHub sends a GUID)");
    }

    // 3. The payload, JSON or form-encoded, parsed once into the fields we use.
    auto push = intake::parse_payload(req.header("content-type"), req.body);
    if (!push) return reject(400, push.error().message);

    // 4. Events other than push are acknowledged and dropped.
    if (event == "ping") {
        m_metrics.count_delivery(event, "ignored");
        respond(http::json_response(200, nlohmann::json{{"delivery", delivery}, {"pong", true}, {"zen", push->zen}}.dump(
                                       -1, ' ', false, nlohmann::json::error_handler_t::replace)));
        return;
    }
    if (event != "push") {
        m_metrics.count_delivery(event, "ignored");
        return respond(ignored("event '" + event + "' does not trigger builds; hookyard builds on push", delivery));
    }

    // 5. The push: deletions, unknown repositories and unmatched refs queue nothing.
    if (auto st = intake::check_push(*push); !st) return reject(400, st.error().message);
    auto skip = [&](const std::string& reason) {
        m_metrics.count_delivery(event, "ignored");
        respond(ignored(reason, delivery));
    };
    if (push->deleted) return skip("the push deletes " + push->ref + "; nothing to build");
    const auto* repo = m_config.find_repository(push->repository);
    if (repo == nullptr) return skip("repository " + push->repository + " is not configured");
    config::PushInfo info;
    info.ref = push->ref;
    info.changed_files = push->changed_files;
    info.head_commit_message = push->head_commit_message;
    const auto plan = config::plan_builds(*repo, info);
    if (plan.builds.empty())
        return skip(plan.skipped_reason.empty() ? "no rule matches " + push->ref : plan.skipped_reason);

    // 6. One durable transaction: delivery id + builds. Answer only after the commit.
    std::vector<storage::NewBuild> builds;
    for (const auto& p : plan.builds) builds.push_back(to_new_build(*repo, *push, p));
    storage::Delivery record{delivery, event, repo->github, storage::now_ms()};
    m_store.accept_delivery(
        std::move(record), std::move(builds), [this, delivery, event, respond](util::Result<storage::AcceptOutcome> r) {
            if (!r) {
                m_metrics.count_delivery(event, "failed");
                util::log_error("webhook", "delivery " + delivery + " not stored: " + r.error().message);
                respond(http::json_error(503, "could not store the delivery; GitHub may redeliver it"));
                return;
            }
            m_metrics.count_delivery(event, r->duplicate ? "duplicate" : "accepted");
            if (!r->duplicate && m_on_queued) m_on_queued();
            nlohmann::json body{{"delivery", delivery}, {"builds", r->build_ids}};
            if (r->duplicate) body["duplicate"] = true;
            respond(http::json_response(r->duplicate ? 200 : 202, body.dump()));
        });
}

}  // namespace hookyard::api
