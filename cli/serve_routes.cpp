#include "cli/serve_routes.hpp"

namespace hookyard::cli {

util::Status StorePipelineStatus::health() {
    if (auto st = m_store.ping(); !st) {
        return util::make_error(st.error().kind, "storage unreachable: " + st.error().message);
    }
    return {};
}

util::Result<storage::StoreStats> StorePipelineStatus::stats() { return m_store.stats(); }

ServeRoutes::ServeRoutes(const config::Config& config, storage::Store& store, api::Metrics& metrics,
                         std::function<void()> on_queued, std::function<std::vector<std::string>()> held)
    : m_status(store, held),
      m_github(
          config, store,
          [&metrics](std::string_view event, std::string_view outcome) { metrics.count_delivery(event, outcome); },
          on_queued),
      m_trigger(config, store, on_queued),
      m_callback(config.server.webhook_secret, store),
      m_builds(config.server.api_token, store, on_queued, std::move(held)),
      m_health(m_status),
      m_metrics(metrics, m_status),
      m_token_limiter(config.server.rate_limit) {
    m_github.add_routes(m_table);  // never rate limited: GitHub shows a 429 as a failing hook and does not retry
    m_trigger.add_routes(m_table, &m_token_limiter);
    m_callback.add_routes(m_table, &m_token_limiter);
    m_builds.add_routes(m_table);
    m_health.add_routes(m_table);
    m_metrics.add_routes(m_table);
    m_table.set_observer([&metrics](std::string_view route, unsigned status, double seconds) {
        metrics.observe_request(route, status, seconds);
    });
}

}  // namespace hookyard::cli
