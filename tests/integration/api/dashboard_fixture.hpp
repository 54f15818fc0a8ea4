#pragma once
// The real `hookyard serve` with the dashboard on: a docker-registry, a git daemon serving acme/app (branch
// main builds in a few seconds, branch slow ticks for two minutes in ANSI green with a byte that is not
// UTF-8), a viewer and an operator in ui.users, builder.concurrency 1 so a running slow build keeps the next
// one queued.

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/git_server.hpp"
#include "tests/support/http_test_client.hpp"
#include "tests/support/registry_server.hpp"
#include "tests/support/support.hpp"

namespace hookyard::test {

// The config's secrets: the webhook's, the API token, the ui users' login tokens.
inline constexpr const char* k_dash_secret = "dashboard-webhook-secret";
inline constexpr const char* k_dash_api_token = "dashboard-api-token-0123";
inline constexpr const char* k_viewer = "dashboard-viewer-token-0123";
inline constexpr const char* k_operator = "dashboard-operator-token-0123";

class DashboardServe : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

    std::string base() const { return "http://127.0.0.1:" + std::to_string(m_port); }
    // A signed GitHub push of main's head commit with `message` as its message; the queued build's id.
    long long push_main(const std::string& message);
    // GET/POST with the API token; the parsed JSON body (null when not JSON).
    nlohmann::json api(const std::string& method, const std::string& path);
    // The build's state as the API reports it.
    std::string state_of(long long id);

    TempDir m_dir;
    std::unique_ptr<RegistryServer> m_registry;
    std::unique_ptr<GitDaemon> m_git;
    std::unique_ptr<SourceRepo> m_repo;
    std::unique_ptr<Process> m_hookyard;
    std::string m_head;
    int m_port = 0;
};

}  // namespace hookyard::test
