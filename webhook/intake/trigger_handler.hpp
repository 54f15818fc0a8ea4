#pragma once
// POST /api/v1/trigger/{token}: Docker Hub-style build triggers. The token names the repository; the body
// picks what to build: {"source_type":"Branch"|"Tag","source_name":"main"}, {"docker_tag":"latest"}, or
// empty / {"build":true} for every rule with a literal source. Planned as a manual push (autobuild:false
// rules count), the commit left empty: the branch head at checkout time.

#include <functional>

#include "config/model.hpp"
#include "http/rate_limiter.hpp"
#include "http/route_table.hpp"
#include "storage/store.hpp"

namespace hookyard::intake {

class TriggerHandler {
public:
    // `config` and `store` must outlive the handler; `on_queued` (called after builds were queued) may be
    // empty. Thread-safe.
    TriggerHandler(const config::Config& config, storage::Store& store, std::function<void()> on_queued);

    // POST /api/v1/trigger/{token}, label "trigger", behind `limiter` (429 over server.rate_limit; null = no
    // limit). The handler and the limiter must outlive the table.
    void add_routes(http::RouteTable& table, http::RateLimiter* limiter = nullptr);

    // 202 {"repository","builds":[ids]}; 404 for an unknown token, 400 for a bad body or no matching rule.
    http::ServerResponse handle(const http::ServerRequest& request, std::string_view token);

private:
    const config::Config& m_config;
    storage::Store& m_store;
    std::function<void()> m_on_queued;
};

}  // namespace hookyard::intake
