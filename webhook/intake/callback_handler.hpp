#pragma once
// POST /api/v1/callbacks/{id}/{token}: Docker Hub's callback_url. The token is an HMAC of the build id
// (util::callback_token), so only receivers of the build's Docker Hub payload can call back. The body
// {"state","description","context","target_url"} is recorded on the build.

#include <string>

#include "http/rate_limiter.hpp"
#include "http/route_table.hpp"
#include "storage/store.hpp"

namespace hookyard::intake {

class CallbackHandler {
public:
    // `webhook_secret` keys the tokens (server.webhook_secret); `store` must outlive the handler.
    // Thread-safe.
    CallbackHandler(std::string webhook_secret, storage::Store& store);

    // POST /api/v1/callbacks/{id}/{token}, label "callback", behind `limiter` (429 over server.rate_limit;
    // null = no limit). The handler and the limiter must outlive the table.
    void add_routes(http::RouteTable& table, http::RateLimiter* limiter = nullptr);

    // 200 {"build","state"}; 404 for an unknown build, 401 for a wrong token, 400 for a bad body.
    http::ServerResponse handle(const http::ServerRequest& request, std::string_view id, std::string_view token);

private:
    std::string m_secret;
    storage::Store& m_store;
};

}  // namespace hookyard::intake
