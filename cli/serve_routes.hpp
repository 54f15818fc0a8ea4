#pragma once
// Everything `hookyard serve` answers over HTTP, assembled from the units of webhook/intake (what arrives)
// and api/ (what people read) into one route table — the only place that knows both. The integration
// tests serve this same assembly.

#include <functional>
#include <string>
#include <vector>

#include "api/badge.hpp"
#include "api/builds_api.hpp"
#include "api/health_api.hpp"
#include "api/metrics.hpp"
#include "api/metrics_api.hpp"
#include "api/pipeline_status.hpp"
#include "api/web_ui.hpp"
#include "config/model.hpp"
#include "http/rate_limiter.hpp"
#include "http/route_table.hpp"
#include "storage/store.hpp"
#include "webhook/intake/callback_handler.hpp"
#include "webhook/intake/github_handler.hpp"
#include "webhook/intake/trigger_handler.hpp"

namespace hookyard::cli {

// api::PipelineStatus over the store: health is the store answering a ping, the counts are its stats,
// degraded is what `degraded` (may be empty) says (the disk watermarks).
class StorePipelineStatus final : public api::PipelineStatus {
public:
    StorePipelineStatus(storage::Store& store, std::function<std::vector<std::string>()> degraded)
        : m_store(store), m_degraded(std::move(degraded)) {}
    util::Status health() override;
    util::Result<storage::StoreStats> stats() override;
    std::vector<std::string> degraded() override { return m_degraded ? m_degraded() : std::vector<std::string>{}; }

private:
    storage::Store& m_store;
    std::function<std::vector<std::string>()> m_degraded;
};

class ServeRoutes {
public:
    // `config`, `store` and `metrics` must outlive this; `on_queued` is called (on any thread) after a
    // push, trigger or retry queued builds, and may be empty. `held` (may be empty) says why builds wait
    // (low disk space): /healthz answers degraded and queued builds show it.
    // Without `intake` (serve --role builder) the webhook routes (GitHub, trigger URL, Docker Hub
    // callback) are not served: a load balancer sends deliveries to the instances that take them.
    ServeRoutes(const config::Config& config, storage::Store& store, api::Metrics& metrics,
                std::function<void()> on_queued, std::function<std::vector<std::string>()> held = {},
                bool intake = true);
    ServeRoutes(const ServeRoutes&) = delete;
    ServeRoutes& operator=(const ServeRoutes&) = delete;

    // The server's request handler; valid while this lives.
    http::RequestHandler handler() const { return m_table.handler(); }

private:
    StorePipelineStatus m_status;
    intake::GithubHandler m_github;
    intake::TriggerHandler m_trigger;
    intake::CallbackHandler m_callback;
    api::BuildsApi m_builds;
    api::HealthApi m_health;
    api::MetricsApi m_metrics;
    api::BadgeRoutes m_badges;
    api::WebUi m_web;
    http::RateLimiter m_token_limiter;  // server.rate_limit on the token routes (trigger, callback)
    // server.rate_limit, counted apart from the token routes: badges (fetched by README proxies) and the
    // dashboard's login form.
    http::RateLimiter m_public_limiter;
    // Last: destroyed first, answering what it accepted while the routes it calls still live.
    api::PageWorkers m_page_workers;
    http::RouteTable m_table;
};

}  // namespace hookyard::cli
