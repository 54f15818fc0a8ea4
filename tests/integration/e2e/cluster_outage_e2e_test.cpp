// PostgreSQL going away under an intake (issue 14): deliveries get 503 while it is unreachable, the
// instance reconnects by itself once it is back, and every delivery answered 202 has its builds stored; the
// same when the server restarts (pg_ctl stop, start) while deliveries arrive at two instances.

#include <algorithm>
#include <atomic>
#include <thread>

#include "tests/integration/e2e/cluster_fixture.hpp"
#include "tests/support/postgres_server.hpp"

namespace hookyard::test {
namespace {

using namespace std::chrono_literals;

using ClusterOutageE2E = ClusterE2E;

TEST_F(ClusterOutageE2E, DeliveriesGet503WhileTheDatabaseIsGoneAndNoAcceptedOneIsLost) {
    PostgresServer* pg = m_pg;
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

// Whether the header lines name Retry-After (any case).
bool outage_has_retry_after(std::string headers) {
    std::transform(headers.begin(), headers.end(), headers.begin(), [](unsigned char c) { return std::tolower(c); });
    return headers.find("\nretry-after:") != std::string::npos;
}

TEST_F(ClusterOutageE2E, ARestartUnderLoadLosesNoAcceptedDeliveryAndBothInstancesReconnect) {
    ASSERT_NO_FATAL_FAILURE(use_own_server());  // this test restarts the server
    PostgresServer* pg = m_pg;
    start_instance(0, {"--role", "intake"});
    start_instance(1, {"--role", "intake"});
    std::vector<long long> accepted;
    std::size_t answered_202 = 0;
    std::atomic<int> refused{0};
    int n = 0;
    // Posts the next push to instance n % 2; anything but 202 must be a 503 with Retry-After.
    auto push_next = [&] {
        use(n % 2);
        const auto answer = send_push("refs/heads/restart-" + std::to_string(n), std::string(40, '0'), m_head,
                                      {"Dockerfile"}, "x", "acme/tags");
        ++n;
        if (answer.status == 202) {
            ++answered_202;
            for (auto id : build_ids(answer)) accepted.push_back(id);
        } else {
            EXPECT_EQ(answer.status, 503) << "push " << n - 1 << ": " << answer.body;
            EXPECT_TRUE(outage_has_retry_after(answer.headers)) << answer.headers;
            ++refused;
        }
        return answer.status;
    };
    for (int i = 0; i < 6; ++i) ASSERT_EQ(push_next(), 202);

    std::atomic<bool> restarted{false}, over{false};
    std::string restart_error;
    std::thread restart([&] {
        // Down until the intakes refused a delivery: a restart that takes a moment.
        if (pg->stop_for_restart(&restart_error)) {
            wait_until([&] { return refused > 0; }, 120s);
            restarted = pg->start_again(&restart_error);
        }
        over = true;
    });
    while (!over) push_next();  // deliveries keep arriving while the server stops and starts
    restart.join();
    ASSERT_TRUE(restarted) << restart_error;
    EXPECT_GT(refused, 0);
    int in_a_row = 0;
    ASSERT_TRUE(wait_until(
        [&] {
            in_a_row = push_next() == 202 ? in_a_row + 1 : 0;
            return in_a_row >= 4;  // both instances reconnected
        },
        120s));
    ASSERT_EQ(accepted.size(), answered_202) << "one build per accepted push";
    use(0);
    for (auto id : accepted) {
        EXPECT_EQ(api_get("/api/v1/builds/" + std::to_string(id)).status, 200) << "build " << id << " was lost";
    }
    std::cerr << answered_202 << " pushes accepted, " << refused << " refused during the restart\n";
}

}  // namespace
}  // namespace hookyard::test
