#include "tests/integration/api/dashboard_fixture.hpp"

#include <csignal>
#include <filesystem>
#include <iostream>

namespace hookyard::test {
namespace {

using namespace std::chrono_literals;

// Exec form: there is no /bin/sh in a scratch image, busybox is copied in.
std::string busybox_dockerfile(const std::string& script) {
    return "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"" + script + "\"]\n";
}

}  // namespace

void DashboardServe::SetUp() {
    m_registry = std::make_unique<RegistryServer>();
    const auto git_root = m_dir / "git";
    std::filesystem::create_directories(git_root);
    m_repo = std::make_unique<SourceRepo>(git_root, "app");
    m_git = std::make_unique<GitDaemon>(git_root);
    write_file(m_repo->work() + "/busybox", read_file("/bin/busybox"), true);
    git({"add", "busybox"}, m_repo->work());
    m_head = m_repo->commit(
        {{"Dockerfile", busybox_dockerfile("echo building; sleep 4; echo built")},
         {"Dockerfile.slow",
          busybox_dockerfile("i=0; while [ $i -lt 120 ]; do printf '\\\\033[32mtick %d\\\\033[0m \\\\377\\\\n' "
                             "$i; i=$((i+1)); sleep 1; done")}},
        "initial");
    m_repo->push("main");
    m_repo->push("slow");
    m_port = free_port();
    const std::string yaml =
        "server: { listen: '127.0.0.1:" + std::to_string(m_port) + "', webhook_secret: " + k_dash_secret +
        ", api_token: " + k_dash_api_token + ", public_url: '" + base() +
        "' }\n"
        "data_dir: " +
        (m_dir / "data") +
        "\n"
        // network none: no RUN step here needs it, and a filtered network rewrites the host's nftables table.
        "builder: { concurrency: 1, timeout: 5m, network: { mode: none } }\n"
        "registries: { local: { endpoint: '" +
        m_registry->url() +
        "' } }\n"
        "repositories:\n"
        "  - github: acme/app\n"
        "    registry: local\n"
        "    push_repo: " +
        m_registry->host() + "/acme/app\n    clone_url: " + m_git->url("app.git") +
        "\n"
        "    rules:\n"
        "      - { source_type: branch, source: main, tag: latest }\n"
        "      - { source_type: branch, source: slow, tag: slow, dockerfile: Dockerfile.slow }\n"
        "ui:\n"
        "  users:\n"
        "    - { name: vera, token: " +
        k_viewer + ", role: viewer }\n    - { name: otto, token: " + k_operator + ", role: operator }\n";
    write_file(m_dir / "hookyard.yaml", yaml);
    m_hookyard = std::make_unique<Process>(
        std::vector<std::string>{binary_dir() + "/hookyard", "serve", "-c", m_dir / "hookyard.yaml"},
        m_dir / "hookyard.log");
    ASSERT_TRUE(
        wait_until([&] { return port_open(m_port) && http_request(m_port, "GET", "/healthz").status == 200; }, 30s))
        << m_hookyard->log();
}

void DashboardServe::TearDown() {
    if (m_hookyard && m_hookyard->running()) {
        m_hookyard->signal(SIGTERM);
        if (m_hookyard->wait(20s) < 0) m_hookyard->signal(SIGKILL);
    }
    if (HasFailure() && m_hookyard) std::cerr << "hookyard log:\n" << m_hookyard->log() << "\n";
}

long long DashboardServe::push_main(const std::string& message) {
    static int delivery = 0;
    const nlohmann::json commit = {{"id", m_head},
                                   {"message", message},
                                   {"added", nlohmann::json::array()},
                                   {"modified", {"Dockerfile"}},
                                   {"removed", nlohmann::json::array()}};
    const nlohmann::json payload = {
        {"ref", "refs/heads/main"},
        {"before", std::string(40, '0')},
        {"after", m_head},
        {"created", false},
        {"deleted", false},
        {"forced", false},
        {"repository", {{"full_name", "acme/app"}, {"name", "app"}, {"clone_url", m_git->url("app.git")}}},
        {"pusher", {{"name", "octocat"}, {"email", "octocat@example.com"}}},
        {"head_commit", commit},
        {"commits", nlohmann::json::array({commit})}};
    const auto r = post_github(m_port, k_dash_secret, "push", "dash-" + std::to_string(++delivery), payload.dump());
    EXPECT_EQ(r.status, 202) << r.body;
    const auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("builds") || j["builds"].empty()) return 0;
    const auto& first = j["builds"][0];
    return first.is_object() ? first.value("id", 0LL) : first.get<long long>();
}

nlohmann::json DashboardServe::api(const std::string& method, const std::string& path) {
    const auto r = http_request(m_port, method, path, {{"Authorization", std::string("Bearer ") + k_dash_api_token}});
    return nlohmann::json::parse(r.body, nullptr, false);
}

std::string DashboardServe::state_of(long long id) {
    const auto j = api("GET", "/api/v1/builds/" + std::to_string(id));
    return j.is_object() ? j.value("state", "") : "";
}

}  // namespace hookyard::test
