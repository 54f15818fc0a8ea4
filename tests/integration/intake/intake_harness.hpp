#pragma once
// The intake (config → SQLite store → the route table `serve` assembles → Beast server) in-process on a real loopback
// socket.

#include <memory>
#include <stdexcept>
#include <string>

#include "cli/serve_routes.hpp"
#include "config/loader.hpp"
#include "http/server.hpp"
#include "storage/store.hpp"
#include "tests/support/support.hpp"

namespace hookyard::test {

// A minimal signed-push body (GitHub's sample repository), for tests that only need some valid push.
inline const std::string k_sample_push =
    R"({"ref":"refs/heads/master","after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246",)"
    R"("repository":{"full_name":"Codertocat/Hello-World"},"commits":[]})";

constexpr const char* k_secret = "It's a Secret to Everybody";
constexpr const char* k_api_token = "api-token-for-tests";

// Codertocat/Hello-World is the repository the @octokit/webhooks-examples push payloads use.
inline std::string intake_config_yaml() {
    return std::string(R"(
server: { listen: "127.0.0.1:0", webhook_secret: "It's a Secret to Everybody", api_token: "api-token-for-tests" }
registries:
  local: { endpoint: "http://127.0.0.1:5000" }
repositories:
  - github: Codertocat/Hello-World
    registry: local
    push_repo: 127.0.0.1:5000/codertocat/hello-world
    rules:
      - { source_type: branch, source: master, tag: latest }
      - { source_type: tag, source: '/^.*$/', tag: '{sourceref}' }
)");
}

class IntakeServer {
public:
    explicit IntakeServer(http::ServerOptions options = {}) {
        auto outcome = config::load_config_text(intake_config_yaml(), "intake.yaml");
        if (!outcome.config) throw std::runtime_error(outcome.diagnostics.at(0).str());
        m_config = *outcome.config;
        auto store = storage::make_sqlite_store(m_dir / "hookyard.db");
        if (!store) throw std::runtime_error(store.error().message);
        m_store = std::move(*store);
        m_routes = std::make_unique<cli::ServeRoutes>(m_config, *m_store, m_metrics, nullptr);
        options.listen = "127.0.0.1:0";
        auto server = http::Server::start(options, m_routes->handler());
        if (!server) throw std::runtime_error(server.error().message);
        m_server = std::move(*server);
    }
    ~IntakeServer() { m_server->stop(); }

    int port() const { return m_server->port(); }
    storage::Store& store() { return *m_store; }
    http::Server& server() { return *m_server; }

private:
    TempDir m_dir;
    config::Config m_config;
    std::unique_ptr<storage::Store> m_store;
    api::Metrics m_metrics;
    std::unique_ptr<cli::ServeRoutes> m_routes;
    std::unique_ptr<http::Server> m_server;
};

}  // namespace hookyard::test
