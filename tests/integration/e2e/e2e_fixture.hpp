#pragma once
// The functional fixture: boots the real `hookyard serve` in a temporary directory against real servers —
// docker-registry with basic auth, git daemon serving a repository the test commits to, HTTP receivers for
// a Docker Hub-format subscriber, a hookyard-format subscriber and the GitHub statuses API — and talks to
// it over its real protocols (signed webhooks, the REST API).

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/git_server.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/registry_server.hpp"
#include "tests/support/support.hpp"

namespace hookyard::test {

struct HttpResult {
    int status = 0;
    std::string body;
    std::string headers;  // the response's header lines, as received
    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

class PipelineE2E : public ::testing::Test {
protected:
    static constexpr const char* k_secret = "e2e-webhook-secret";
    static constexpr const char* k_token = "e2e-api-token";
    static constexpr const char* k_ops_secret = "ops-hmac-key";
    static constexpr const char* k_github_token = "ghp_e2e_token";
    static constexpr const char* k_trigger_token = "e2e-trigger-token";

    void SetUp() override;
    void TearDown() override;

    // Starts (or restarts) `hookyard serve` and waits until /healthz answers.
    void start_hookyard();
    // SIGKILLs the service (only its own process: builds' buildah processes are orphaned, as in a crash).
    void kill_hookyard();

    // Commits `files` to main (a Dockerfile FROM scratch with busybox is there from the start) and pushes.
    std::string commit_and_push(const std::map<std::string, std::string>& files, const std::string& message = "change");
    // Posts a GitHub push event for `ref` at `after`, signed like GitHub; returns the answer.
    HttpResult send_push(const std::string& ref, const std::string& before, const std::string& after,
                         const std::vector<std::string>& changed = {"Dockerfile"},
                         const std::string& message = "change", const std::string& repository = "acme/app");
    // The push event send_push() sends, for a test to change before send_payload().
    nlohmann::json push_payload(const std::string& ref, const std::string& before, const std::string& after,
                                const std::vector<std::string>& changed = {"Dockerfile"},
                                const std::string& message = "change", const std::string& repository = "acme/app");
    // Posts `payload` as a push event with a fresh delivery id, signed like GitHub.
    HttpResult send_payload(const nlohmann::json& payload);
    // The build ids of a 202 answer.
    static std::vector<long long> build_ids(const HttpResult& accepted);
    // GET with the API token.
    HttpResult api_get(const std::string& path);
    HttpResult request(const std::string& method, const std::string& path, const std::string& body,
                       const std::vector<std::string>& headers);
    // Polls the build until it is terminal (or `timeout` passes); returns its JSON.
    nlohmann::json wait_terminal(long long id, std::chrono::seconds timeout = std::chrono::seconds(120));
    // `skopeo inspect` of an image on the test registry; the JSON, or null when it is not there.
    nlohmann::json skopeo_inspect(const std::string& repo_and_tag);

    std::string dockerfile(const std::string& run_script) const;
    // Called by SetUp with the config text before it is written and the service starts: a fixture may add
    // to it (the registry and the git daemon are up).
    virtual void adjust_config(std::string& yaml) { (void)yaml; }

    TempDir m_dir;
    std::unique_ptr<RegistryServer> m_registry;
    std::unique_ptr<GitDaemon> m_git;
    std::unique_ptr<SourceRepo> m_repo;
    HttpTestServer m_hub_receiver;
    HttpTestServer m_ops_receiver;
    HttpTestServer m_github;
    HttpTestServer m_slow_receiver;  // answers after longer than notify.timeout
    int m_down_port = 0;             // nothing listens there
    std::unique_ptr<Process> m_hookyard;
    int m_port = 0;
    int m_starts = 0;
    std::string m_config;
    std::string m_head;  // the last pushed commit
};

}  // namespace hookyard::test
