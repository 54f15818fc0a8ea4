#pragma once
// Several `hookyard serve` instances on one PostgreSQL database (issue 14), on top of the functional
// fixture's servers and config: each instance has its own port and data dir, and may add a cluster:
// section of its own. The fixture's SQLite instance is stopped; instances start when a test says so.

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/e2e/e2e_fixture.hpp"
#include "tests/support/postgres_server.hpp"

namespace hookyard::test {

class ClusterE2E : public PipelineE2E {
protected:
    void SetUp() override;
    void TearDown() override;

    // The config lines instance `i` adds to the fixture's: by default its name, cluster.instance_id node-<i>
    // (instances on one host would otherwise share the host name).
    virtual std::string instance_yaml(int i) const;
    // Writes instance `i`'s config and starts `hookyard serve` with it and `args`; asserts that it listens
    // within 3 minutes (the sandbox set-up of a loaded machine takes one).
    void start_instance(int i, const std::vector<std::string>& args = {});
    // SIGKILLs instance `i` (its build processes are orphaned, as when a machine dies).
    void kill_instance(int i);
    // Sends `sig` to instance `i` (SIGSTOP / SIGCONT: a stalled machine).
    void signal_instance(int i, int sig);
    // The notifications `receiver` got of `event` (x-hookyard-event) for build `id`.
    static std::size_t notifications_of(const HttpTestServer& receiver, const std::string& event, long long id);
    // Whether the build JSON has a running stage `name`.
    static bool stage_running(const nlohmann::json& build, const std::string& name);
    // Points the fixture's requests (send_push, api_get, wait_terminal …) at instance `i`.
    void use(int i) { m_port = m_ports.at(static_cast<std::size_t>(i)); }
    // What instance `i` logged so far ("" before it started).
    std::string instance_log(int i) const;

    // Moves the instances (none started yet) to a new database on a server of the test's own, which the
    // test may stop and restart (the shared one is not the test's to stop).
    void use_own_server();

    std::vector<int> m_ports;        // instance i listens on m_ports[i]
    PostgresServer* m_pg = nullptr;  // the server of m_database: PostgresServer::shared() unless use_own_server()
    std::string m_database;          // the instances' database

private:
    std::string m_base_config;  // the fixture's config, without storage:
    std::vector<std::unique_ptr<Process>> m_instances;
    std::unique_ptr<PostgresServer> m_own_pg;
};

}  // namespace hookyard::test
