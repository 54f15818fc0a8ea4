// Two `hookyard serve` instances on one PostgreSQL database (issue 14): pushes spread over both instances'
// intakes are built once each, by whichever instance claimed them, and pushed to the registry.

#include <signal.h>

#include <regex>

#include "tests/integration/e2e/e2e_fixture.hpp"
#include "tests/support/postgres_server.hpp"

namespace hookyard::test {
namespace {

using namespace std::chrono_literals;

class ScaleOutE2E : public PipelineE2E {
protected:
    // The fixture's config and SQLite instance, then both instances on one fresh PostgreSQL database: each
    // with its own port and data dir.
    void SetUp() override {
        PipelineE2E::SetUp();
        if (HasFatalFailure()) return;
        m_hookyard->signal(SIGTERM);
        ASSERT_GE(m_hookyard->wait(20s), 0);
        std::string error;
        PostgresServer* pg = PostgresServer::shared(&error);
        ASSERT_NE(pg, nullptr) << error;
        ASSERT_TRUE(pg->create_database("scale_out", &error)) << error;
        const std::string base = read_file(m_config);
        m_ports = {m_port, free_port()};
        for (int i = 0; i < 2; ++i) {
            std::string text = "storage: \"" + pg->url("scale_out") + "\"\n" + base;
            text = std::regex_replace(text, std::regex("127\\.0\\.0\\.1:" + std::to_string(m_port) + "\""),
                                      "127.0.0.1:" + std::to_string(m_ports[i]) + "\"");
            text = std::regex_replace(text, std::regex("data_dir: .*"),
                                      "data_dir: " + (m_dir / "data-") + std::to_string(i));
            m_configs.push_back(m_dir / ("instance-" + std::to_string(i) + ".yaml"));
            write_file(m_configs.back(), text);
        }
        m_config = m_configs[0];
        start_hookyard();
        m_second =
            std::make_unique<Process>(std::vector<std::string>{binary_dir() + "/hookyard", "serve", "-c", m_configs[1]},
                                      m_dir / "instance-1.log");
        ASSERT_TRUE(wait_until([&] { return port_open(m_ports[1]) || !m_second->running(); }, 60s) &&
                    m_second->running())
            << m_second->log();
    }

    void TearDown() override {
        if (m_second && m_second->running()) {
            m_second->signal(SIGTERM);
            m_second->wait(20s);
        }
        if (HasFailure() && m_second) std::cerr << "second instance's log:\n" << m_second->log() << "\n";
        PipelineE2E::TearDown();
    }

    std::vector<int> m_ports;
    std::vector<std::string> m_configs;
    std::unique_ptr<Process> m_second;
};

// How often `log` says build `id` started.
int starts_in(const std::string& log, long long id) {
    const std::regex started("build " + std::to_string(id) + " of [^ ]+ [^ ]+ started");
    return static_cast<int>(
        std::distance(std::sregex_iterator(log.begin(), log.end(), started), std::sregex_iterator()));
}

TEST_F(ScaleOutE2E, PushesSpreadOverTwoInstancesAreEachBuiltOnceAndPushed) {
    std::vector<long long> ids;
    for (int i = 0; i < 10; ++i) m_repo->push("b" + std::to_string(i));  // HEAD (m_head) as branch b<i>
    for (int i = 0; i < 10; ++i) {
        m_port = m_ports[static_cast<std::size_t>(i % 2)];  // the intake of instance i % 2
        const auto accepted = send_push("refs/heads/b" + std::to_string(i), std::string(40, '0'), m_head,
                                        {"Dockerfile"}, "change", "acme/tags");
        ASSERT_EQ(accepted.status, 202) << accepted.body;
        const auto built = build_ids(accepted);
        ASSERT_EQ(built.size(), 1u) << accepted.body;
        ids.push_back(built[0]);
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
        m_port = m_ports[i % 2];  // either instance answers for every build
        const auto build = wait_terminal(ids[i], 300s);
        EXPECT_EQ(build.value("state", ""), "succeeded") << build.dump();
        EXPECT_EQ(build.value("attempts", -1), 0) << build.dump();
        EXPECT_FALSE(skopeo_inspect("acme/tags:b" + std::to_string(i)).is_null()) << "b" << i << " not pushed";
    }
    const std::string logs[2] = {m_hookyard->log(), m_second->log()};
    int by_second = 0;
    for (const auto id : ids) {
        const int first = starts_in(logs[0], id), second = starts_in(logs[1], id);
        EXPECT_EQ(first + second, 1) << "build " << id << " started " << first << " + " << second << " times";
        by_second += second;
    }
    std::cerr << "builds run by the second instance: " << by_second << " of " << ids.size() << "\n";
    EXPECT_EQ(api_get("/api/v1/builds?repository=acme/tags").json()["builds"].size(), ids.size());
}

}  // namespace
}  // namespace hookyard::test
