#pragma once
// The dashboard and badge routes on a route table over the in-memory store, with a config of one
// repository, a viewer and an operator; requests built by hand, as the browser would send them.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "api/badge.hpp"
#include "api/web_ui.hpp"
#include "config/loader.hpp"
#include "tests/support/fake_store.hpp"
#include "tests/unit/api/fake_pipeline_status.hpp"

namespace hookyard::test {

inline constexpr const char* k_web_viewer_token = "viewer-token-0123456789";
inline constexpr const char* k_web_operator_token = "operator-token-0123456789";

inline config::Config web_test_config(const std::string& ui_extra = "") {
    const std::string yaml = R"(
server: { webhook_secret: "a-webhook-secret-for-tests", api_token: "api-token-for-tests-0123",
          public_url: "https://ci.example.com" }
registries: { local: { endpoint: "http://127.0.0.1:5000" } }
repositories:
  - github: acme/web
    registry: local
    push_repo: 127.0.0.1:5000/acme/web
    rules:
      - { source_type: branch, source: main, tag: latest }
      - { source_type: tag, source: '/^v.*$/', tag: '{sourceref}' }
ui:
  users:
    - { name: vera, token: viewer-token-0123456789, role: viewer }
    - { name: otto, token: operator-token-0123456789, role: operator }
)" + ui_extra;
    auto out = config::load_config_text(yaml, "web.yaml");
    if (!out.config) throw std::runtime_error(out.diagnostics.at(0).str());
    return *out.config;
}

class WebRoutesTest : public ::testing::Test {
protected:
    explicit WebRoutesTest(const std::string& ui_extra = "") : m_config(web_test_config(ui_extra)) {
        m_ui = std::make_unique<api::WebUi>(
            m_config, *m_store, m_status, [this] { ++m_queued; },
            [this](const config::RepositoryConfig&, std::size_t rule) {
                m_build_now_rule = static_cast<int>(rule);
                return util::Result<std::vector<storage::BuildId>>(
                    std::vector<storage::BuildId>{queue("refs/heads/main")});
            });
        m_ui->add_routes(m_table, nullptr, nullptr);
        m_badges.add_routes(m_table, nullptr);
    }

    storage::BuildId queue(const std::string& ref, const std::string& message = "fix it",
                           std::vector<std::string> tags = {"latest"}) {
        storage::NewBuild b;
        b.repository = "acme/web";
        b.ref = ref;
        b.commit = "0123456789abcdef0123456789abcdef01234567";
        b.image = "127.0.0.1:5000/acme/web";
        b.tags = std::move(tags);
        b.head_commit_message = message;
        auto stored = m_store->insert_builds({b});
        if (!stored) throw std::runtime_error(stored.error().message);
        return stored->at(0).id;
    }
    // Runs build `id` to `terminal` (running first).
    void finish(storage::BuildId id, storage::BuildState terminal) {
        ASSERT_TRUE(m_store->claim(id));
        ASSERT_TRUE(m_store->finish_build(id, terminal, "", terminal == storage::BuildState::failed ? "boom" : ""));
    }

    http::ServerResponse call(const std::string& method, const std::string& target, const std::string& cookie = "",
                              const std::string& body = "") {
        http::ServerRequest r{method, target, {}, body};
        if (!cookie.empty()) r.headers["cookie"] = cookie;
        http::ServerResponse out;
        m_table.handle(std::move(r), [&out](http::ServerResponse res) { out = std::move(res); });
        return out;
    }
    // The Cookie header of a session logged in with `token`.
    std::string login_cookie(const std::string& token) {
        const auto session = m_auth.login(token);
        if (!session) throw std::runtime_error("login refused");
        return "hy_session=" + session->cookie_value;
    }
    std::string csrf_of(const std::string& cookie) { return m_auth.csrf_token(*m_auth.session(cookie)); }
    static std::string header(const http::ServerResponse& r, const std::string& name) {
        for (const auto& [k, v] : r.headers) {
            if (k == name) return v;
        }
        return "";
    }

    config::Config m_config;
    std::unique_ptr<storage::Store> m_store = make_fake_store();
    FakePipelineStatus m_status;
    api::WebAuth m_auth{m_config};
    api::BadgeRoutes m_badges{m_config, *m_store};
    std::unique_ptr<api::WebUi> m_ui;
    http::RouteTable m_table;
    int m_queued = 0;
    int m_build_now_rule = -1;
};

}  // namespace hookyard::test
