// PostgreSQL going away under an intake (issue 14): deliveries get 503 while it is unreachable, the
// instance reconnects by itself once it is back, and every delivery answered 202 has its builds stored.

#include "tests/integration/e2e/cluster_fixture.hpp"
#include "tests/support/postgres_server.hpp"

namespace hookyard::test {
namespace {

using namespace std::chrono_literals;

using ClusterOutageE2E = ClusterE2E;

TEST_F(ClusterOutageE2E, DeliveriesGet503WhileTheDatabaseIsGoneAndNoAcceptedOneIsLost) {
    PostgresServer* pg = PostgresServer::shared();
    ASSERT_NE(pg, nullptr);
    start_instance(0, {"--role", "intake"});  // nothing builds: only the intake is under test
    use(0);
    std::vector<long long> accepted;
    std::size_t answered_202 = 0;
    auto push = [&](int n) {
        const auto answer = send_push("refs/heads/outage-" + std::to_string(n), std::string(40, '0'), m_head,
                                      {"Dockerfile"}, "x", "acme/tags");
        if (answer.status == 202) {
            ++answered_202;
            for (auto id : build_ids(answer)) accepted.push_back(id);
        }
        return answer.status;
    };
    for (int n = 0; n < 5; ++n) ASSERT_EQ(push(n), 202);

    // The database refuses connections and drops the instance's: as if the server went away.
    ASSERT_EQ(pg->psql("postgres", "ALTER DATABASE " + m_database + " ALLOW_CONNECTIONS false"), 0);
    ASSERT_EQ(pg->psql("postgres",
                       "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + m_database + "'"),
              0);
    for (int n = 5; n < 10; ++n) EXPECT_EQ(push(n), 503) << "delivery " << n << " while the database is gone";
    EXPECT_EQ(api_get("/healthz").status, 503);

    ASSERT_EQ(pg->psql("postgres", "ALTER DATABASE " + m_database + " ALLOW_CONNECTIONS true"), 0);
    int n = 10;
    ASSERT_TRUE(wait_until([&] { return push(n++) == 202; }, 60s)) << "the instance did not reconnect";
    for (; n < 15; ++n) EXPECT_EQ(push(n), 202);
    ASSERT_EQ(accepted.size(), answered_202) << "one build per accepted push";
    EXPECT_GE(answered_202, 10u);
    for (auto id : accepted) {
        EXPECT_EQ(api_get("/api/v1/builds/" + std::to_string(id)).status, 200) << "build " << id << " was lost";
    }
}

}  // namespace
}  // namespace hookyard::test
