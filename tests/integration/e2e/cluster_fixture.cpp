#include "tests/integration/e2e/cluster_fixture.hpp"

#include <signal.h>

#include <regex>

#include "tests/support/postgres_server.hpp"

namespace hookyard::test {

using namespace std::chrono_literals;

void ClusterE2E::SetUp() {
    PipelineE2E::SetUp();
    if (HasFatalFailure()) return;
    m_hookyard->signal(SIGTERM);
    ASSERT_GE(m_hookyard->wait(20s), 0);
    std::string error;
    m_pg = PostgresServer::shared(&error);
    ASSERT_NE(m_pg, nullptr) << error;
    // One database per test: tests share the server.
    m_database = m_pg->new_database("cluster", &error);
    ASSERT_FALSE(m_database.empty()) << error;
    m_base_config = read_file(m_config);
    m_ports = {m_port, free_port(), free_port()};
    m_instances.resize(m_ports.size());
}

void ClusterE2E::use_own_server() {
    std::string error;
    m_own_pg = PostgresServer::start(&error);
    ASSERT_NE(m_own_pg, nullptr) << error;
    m_pg = m_own_pg.get();
    m_database = m_pg->new_database("cluster", &error);
    ASSERT_FALSE(m_database.empty()) << error;
}

void ClusterE2E::TearDown() {
    for (std::size_t i = 0; i < m_instances.size(); ++i) {
        auto& p = m_instances[i];
        if (p && p->running()) {
            p->signal(SIGTERM);
            if (p->wait(20s) < 0) p->signal(SIGKILL);
        }
        if (HasFailure() && p) std::cerr << "instance " << i << "'s log:\n" << p->log() << "\n";
    }
    PipelineE2E::TearDown();
}

std::string ClusterE2E::instance_yaml(int i) const {
    return "cluster: { instance_id: node-" + std::to_string(i) + " }\n";
}

void ClusterE2E::start_instance(int i, const std::vector<std::string>& args) {
    const auto n = static_cast<std::size_t>(i);
    std::string text = "storage: \"" + m_pg->url(m_database) + "\"\n" + instance_yaml(i) + m_base_config;
    text = std::regex_replace(text, std::regex("127\\.0\\.0\\.1:" + std::to_string(m_ports[0]) + "\""),
                              "127.0.0.1:" + std::to_string(m_ports[n]) + "\"");
    text = std::regex_replace(text, std::regex("data_dir: .*"), "data_dir: " + (m_dir / "data-") + std::to_string(i));
    const std::string config = m_dir / ("instance-" + std::to_string(i) + ".yaml");
    write_file(config, text);
    std::vector<std::string> argv{binary_dir() + "/hookyard", "serve", "-c", config};
    argv.insert(argv.end(), args.begin(), args.end());
    m_instances[n] = std::make_unique<Process>(argv, m_dir / ("instance-" + std::to_string(i) + ".log"));
    const int port = m_ports[n];
    ASSERT_TRUE(wait_until([&] { return port_open(port) || !m_instances[n]->running(); }, 180s) &&
                m_instances[n]->running())
        << m_instances[n]->log();
}

void ClusterE2E::kill_instance(int i) {
    auto& p = m_instances.at(static_cast<std::size_t>(i));
    ::kill(p->pid(), SIGKILL);
    ASSERT_EQ(p->wait(10s), 128 + SIGKILL);
}

void ClusterE2E::signal_instance(int i, int sig) { m_instances.at(static_cast<std::size_t>(i))->signal(sig); }

std::size_t ClusterE2E::notifications_of(const HttpTestServer& receiver, const std::string& event, long long id) {
    std::size_t n = 0;
    for (const auto& req : receiver.requests()) {
        if (req.header("x-hookyard-event") != event) continue;
        const auto body = nlohmann::json::parse(req.body, nullptr, false);
        if (!body.is_discarded() && body["build"].value("id", 0LL) == id) ++n;
    }
    return n;
}

bool ClusterE2E::stage_running(const nlohmann::json& build, const std::string& name) {
    for (const auto& s : build.value("stages", nlohmann::json::array())) {
        if (s.value("name", "") == name && s.value("state", "") == "running") return true;
    }
    return false;
}

std::string ClusterE2E::instance_log(int i) const {
    const auto& p = m_instances.at(static_cast<std::size_t>(i));
    return p ? p->log() : "";
}

}  // namespace hookyard::test
