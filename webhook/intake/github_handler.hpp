#pragma once
// POST /hooks/github: GitHub webhook deliveries, in numbered steps — verify, parse, plan, store, answer.
// Answers fast and leaves the work to the build queue. Every error answer is {"error": "..."}.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "http/route_table.hpp"
#include "storage/store.hpp"
#include "webhook/intake/github_event.hpp"

namespace hookyard::intake {

// Counts one delivery by event ("unverified" before the signature passed, "unknown" for an implausible
// name) and outcome: accepted | duplicate | ignored | rejected | failed. Called on any thread.
using DeliveryCounter = std::function<void(std::string_view event, std::string_view outcome)>;

class GithubHandler {
public:
    // `config` and `store` must outlive the handler; `count` and `on_queued` (called after builds were
    // queued, on any thread) may be empty. Thread-safe.
    GithubHandler(const config::Config& config, storage::Store& store, DeliveryCounter count,
                  std::function<void()> on_queued);

    // POST /hooks/github, label "github". The handler must outlive the table.
    void add_routes(http::RouteTable& table);

    // Answers one delivery through `respond`, exactly once: an accepted push from the store's commit thread
    // once durable, everything else before returning.
    void handle(const http::ServerRequest& request, http::Responder respond);

private:
    struct Incoming;   // the delivery's headers, as far as checked
    struct Rejection;  // a status and the message the sender gets
    struct Plan;       // what a push asks for: a rejection, a reason to ignore it, or builds

    std::optional<Rejection> verify(const http::ServerRequest& request, Incoming& in) const;
    Plan plan(const PushEvent& push) const;
    // Queues a pull request's builds, or cancels them when it closed (pull_request.hpp).
    void handle_pull_request(const Incoming& in, const PushEvent& event, http::Responder respond);
    void store(const Incoming& in, const config::RepositoryConfig& repo, std::vector<storage::NewBuild> builds,
               http::Responder respond);
    void reject(const Incoming& in, const Rejection& rejection, const http::Responder& respond) const;
    void ignore(const Incoming& in, const std::string& reason, const http::Responder& respond) const;
    void count(std::string_view event, std::string_view outcome) const;

    const config::Config& m_config;
    storage::Store& m_store;
    DeliveryCounter m_count;
    std::function<void()> m_on_queued;
};

}  // namespace hookyard::intake
