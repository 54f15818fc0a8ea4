#pragma once
// One intake unit at a time on a route table without sockets: real config, real SQLite store in a temp dir.

#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "config/loader.hpp"
#include "http/route_table.hpp"
#include "storage/store.hpp"
#include "tests/support/support.hpp"

namespace hookyard::test {

inline constexpr const char* k_intake_config = R"(
server: { listen: "127.0.0.1:0", webhook_secret: "s3cret", api_token: "api-tok" }
registries:
  local: { endpoint: "http://127.0.0.1:5000" }
repositories:
  - github: acme/web
    registry: local
    push_repo: 127.0.0.1:5000/acme/web
    trigger_token: trig-tok
    rules:
      - { source_type: branch, source: main, tag: latest }
      - { source_type: tag, source: '/^v([0-9.]+)$/', tag: '{\1}' }
      - { source_type: branch, source: manual, tag: manual, autobuild: false }
)";

class IntakeTest : public ::testing::Test {
protected:
    IntakeTest() {
        auto outcome = config::load_config_text(k_intake_config, "test.yaml");
        if (!outcome.config) throw std::runtime_error(outcome.diagnostics.at(0).str());
        m_config = *outcome.config;
        auto store = storage::make_sqlite_store(m_dir / "db.sqlite");
        if (!store) throw std::runtime_error(store.error().message);
        m_store = std::move(*store);
    }

    // Routes one request through the table and waits for its answer (which may come from the commit thread).
    http::ServerResponse call(http::ServerRequest req) {
        std::promise<http::ServerResponse> p;
        auto f = p.get_future();
        m_table.handle(std::move(req), [&p](http::ServerResponse r) { p.set_value(std::move(r)); });
        return f.get();
    }

    static nlohmann::json json(const http::ServerResponse& r) { return nlohmann::json::parse(r.body); }

    TempDir m_dir;
    config::Config m_config;
    std::unique_ptr<storage::Store> m_store;
    http::RouteTable m_table;
    int m_queued = 0;  // on_queued calls
};

}  // namespace hookyard::test
