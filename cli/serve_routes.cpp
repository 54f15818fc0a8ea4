#include "cli/serve_routes.hpp"

#include "config/rules.hpp"
#include "storage/new_build.hpp"
#include "webhook/intake/clone_url.hpp"

namespace hookyard::cli {
namespace {

// The dashboard's and badges' store reads: two threads beside the server's, a bounded line behind them.
constexpr int k_page_threads = 2;
constexpr std::size_t k_page_queue = 256;

// The dashboard's "Build now": the rule's own branch or tag, planned as a manual trigger would be.
api::WebUi::BuildNow build_now_over(const config::Config& config, storage::Store& store,
                                    std::function<void()> on_queued) {
    return [&config, &store, on_queued](const config::RepositoryConfig& repo,
                                        std::size_t rule) -> util::Result<std::vector<storage::BuildId>> {
        const config::Rule& r = repo.rules.at(rule);
        config::PushInfo info;
        info.ref = (r.source_type == config::SourceType::tag ? "refs/tags/" : "refs/heads/") + r.source;
        info.manual = true;
        std::vector<storage::NewBuild> builds;
        for (const auto& p : config::plan_builds(repo, info).builds) {
            if (p.rule_index != rule) continue;
            storage::NewBuild b = storage::make_new_build(repo, p, info.ref);
            b.pusher = "dashboard";
            b.clone_url = intake::clone_url_for(config, repo);
            builds.push_back(std::move(b));
        }
        if (builds.empty()) return std::vector<storage::BuildId>{};
        auto stored = store.insert_builds(std::move(builds));
        if (!stored) return stored.error();
        if (on_queued) on_queued();
        std::vector<storage::BuildId> ids;
        for (const auto& b : *stored) ids.push_back(b.id);
        return ids;
    };
}

}  // namespace

util::Status StorePipelineStatus::health() {
    if (auto st = m_store.ping(); !st) {
        return util::make_error(st.error().kind, "storage unreachable: " + st.error().message);
    }
    return {};
}

util::Result<storage::StoreStats> StorePipelineStatus::stats() { return m_store.stats(); }

ServeRoutes::ServeRoutes(const config::Config& config, storage::Store& store, api::Metrics& metrics,
                         std::function<void()> on_queued, std::function<std::vector<std::string>()> held, bool intake)
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
      m_badges(config, store),
      m_web(config, store, m_status, on_queued, build_now_over(config, store, on_queued)),
      m_token_limiter(config.server.rate_limit),
      m_public_limiter(config.server.rate_limit),
      m_page_workers(k_page_threads, k_page_queue) {
    if (intake) {
        m_github.add_routes(m_table);  // never rate limited: GitHub shows a 429 as a failing hook, no retry
        m_trigger.add_routes(m_table, &m_token_limiter);
        m_callback.add_routes(m_table, &m_token_limiter);
    }
    m_builds.add_routes(m_table);
    m_health.add_routes(m_table);
    m_metrics.add_routes(m_table);
    m_badges.add_routes(m_table, &m_public_limiter, &m_page_workers);
    m_web.add_routes(m_table, &m_public_limiter, &m_page_workers);
    m_table.set_observer([&metrics](std::string_view route, unsigned status, double seconds) {
        metrics.observe_request(route, status, seconds);
    });
}

}  // namespace hookyard::cli
