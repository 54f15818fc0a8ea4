#pragma once
// Routing: a request in, a response out, with no sockets involved (unit-tested directly).
//   POST /hooks/github                 GitHub webhooks (github_handler.cpp)
//   GET  /healthz, GET /metrics
//   /api/v1/builds…, POST /api/v1/trigger/{token}   REST API (api_handler.cpp)
//   POST /api/v1/callbacks/{id}/{token}              Docker Hub callback_url (callback_handler.cpp)
// Every error answer is {"error": "..."} with the status that names the class of problem.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "config/model.hpp"
#include "storage/store.hpp"
#include "http/server_types.hpp"
#include "api/metrics.hpp"

namespace hookyard::api {

class Router {
public:
    // `config`, `store` and `metrics` must outlive the router. Thread-safe: handle() may run on many threads.
    Router(const config::Config& config, storage::Store& store, Metrics& metrics);

    // Answers one request through `respond`, exactly once. Accepted pushes are answered from the store's
    // commit thread once durable; everything else before handle() returns.
    void handle(http::ServerRequest request, http::Responder respond);

    // Called (on any thread) after builds were queued — an accepted push, a trigger, a retry — so the
    // scheduler can claim them at once instead of at its next poll. Set before serving; may be empty.
    void set_on_queued(std::function<void()> on_queued) { m_on_queued = std::move(on_queued); }

private:
    void github(const http::ServerRequest& request, http::Responder respond);
    http::ServerResponse api(const http::ServerRequest& request, std::string_view path);
    http::ServerResponse trigger(const http::ServerRequest& request, std::string_view token);
    http::ServerResponse follow_log(storage::BuildId id, storage::LogChunk first);
    // Docker Hub's callback_url: {"state","description","context","target_url"} recorded on the build.
    http::ServerResponse callback(const http::ServerRequest& request, std::string_view id_and_token);
    // GET /api/v1/builds/{id}/notifications: the outbox of a build with every attempt, and its callbacks.
    http::ServerResponse notifications(storage::BuildId id);
    http::ServerResponse healthz();
    http::ServerResponse metrics();

    const config::Config& m_config;
    storage::Store& m_store;
    Metrics& m_metrics;
    std::function<void()> m_on_queued;
};

// The route label used in metrics for a request path ("github", "api", "trigger", "healthz", "metrics",
// "other"). Pure.
std::string_view route_label(std::string_view path);

}  // namespace hookyard::api
