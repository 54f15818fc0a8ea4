// PostgreSQL-only behaviour of the store: the URL, the schema version, and several instances (stores)
// sharing one database. The contract itself runs in store_contract_test.cpp.

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <set>
#include <thread>

#include "storage/postgres_migrations.hpp"
#include "storage/store.hpp"
#include "tests/support/fake_store.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/unit/storage/store_contract.hpp"

using namespace hookyard::storage;
using hookyard::test::accept_sync;
using hookyard::test::PostgresServer;
using hookyard::util::ErrorKind;

namespace {

class PostgresStore : public ::testing::Test {
protected:
    void SetUp() override {
        std::string error;
        m_server = PostgresServer::shared(&error);
        ASSERT_NE(m_server, nullptr) << error;
        m_db = m_server->new_database("pg_only", &error);
        ASSERT_FALSE(m_db.empty()) << error;
    }
    // One hookyard instance's store on this test's database.
    std::unique_ptr<Store> instance() {
        auto s = open_store(m_server->url(m_db));
        EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
        return s ? std::move(*s) : nullptr;
    }
    PostgresServer* m_server = nullptr;
    std::string m_db;
};

}  // namespace

TEST_F(PostgresStore, AnUnreachableServerIsNamedWithoutItsPassword) {
    auto s = open_store("postgresql://builder:s3cret-pw@127.0.0.1:" + std::to_string(hookyard::test::free_port()) +
                        "/hookyard?connect_timeout=2");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().kind, ErrorKind::transient);
    EXPECT_NE(s.error().message.find("127.0.0.1"), std::string::npos) << s.error().message;
    EXPECT_EQ(s.error().message.find("s3cret-pw"), std::string::npos) << s.error().message;
}

TEST_F(PostgresStore, OverTcpThePasswordComesFromTheUrlOrPgpassfileAndAWrongOneIsNotShown) {
    auto wrong = open_store(m_server->tcp_url(m_db, "wrong-pw-123"));
    ASSERT_FALSE(wrong.ok());
    EXPECT_NE(wrong.error().message.find("password authentication failed"), std::string::npos) << wrong.error().message;
    EXPECT_EQ(wrong.error().message.find("wrong-pw-123"), std::string::npos) << wrong.error().message;
    auto right = open_store(m_server->tcp_url(m_db, PostgresServer::k_password));
    ASSERT_TRUE(right.ok()) << right.error().message;
    EXPECT_TRUE((*right)->ping().ok());

    hookyard::test::TempDir dir;
    hookyard::test::write_file(dir / "pgpass", "127.0.0.1:" + std::to_string(m_server->port()) + ":" + m_db +
                                                   ":hookyard:" + PostgresServer::k_password + "\n");
    ASSERT_EQ(chmod((dir / "pgpass").c_str(), 0600), 0);
    setenv("PGPASSFILE", (dir / "pgpass").c_str(), 1);
    auto from_file = open_store(m_server->tcp_url(m_db, ""));
    unsetenv("PGPASSFILE");
    ASSERT_TRUE(from_file.ok()) << from_file.error().message;
}

TEST_F(PostgresStore, ADatabaseNewerThanThisHookyardIsRefused) {
    { ASSERT_NE(instance(), nullptr); }
    ASSERT_EQ(m_server->psql(m_db, "INSERT INTO schema_migrations VALUES (999, 0)"), 0);
    auto s = open_store(m_server->url(m_db));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().kind, ErrorKind::invalid_input);
    EXPECT_NE(s.error().message.find("schema version 999, newer than this hookyard knows (" +
                                     std::to_string(postgres::latest_schema_version()) + ")"),
              std::string::npos)
        << s.error().message;
}

TEST_F(PostgresStore, OneDeliveryAtTwoInstancesAtOnceQueuesItsBuildsOnce) {
    auto a = instance(), b = instance();
    ASSERT_TRUE(a && b);
    for (int round = 0; round < 20; ++round) {
        const Delivery d{"both-" + std::to_string(round), "push", "acme/web", 0};
        hookyard::util::Result<AcceptOutcome> ra = AcceptOutcome{}, rb = AcceptOutcome{};
        std::thread ta([&] { ra = accept_sync(*a, d, {hookyard::test::web_build("refs/heads/main")}); });
        std::thread tb([&] { rb = accept_sync(*b, d, {hookyard::test::web_build("refs/heads/main")}); });
        ta.join();
        tb.join();
        ASSERT_TRUE(ra.ok() && rb.ok()) << (ra.ok() ? rb.error().message : ra.error().message);
        EXPECT_NE(ra->duplicate, rb->duplicate) << "exactly one instance stores delivery " << d.id;
        EXPECT_EQ(ra->build_ids, rb->build_ids);
    }
    BuildFilter all;
    all.limit = 500;
    EXPECT_EQ(a->list_builds(all)->size(), 20u);
}

TEST_F(PostgresStore, TwoInstancesClaimingTogetherNeverGetTheSameBuild) {
    auto a = instance(), b = instance();
    ASSERT_TRUE(a && b);
    std::vector<NewBuild> queued;
    for (int i = 0; i < 30; ++i) queued.push_back(hookyard::test::web_build("refs/heads/b" + std::to_string(i)));
    ASSERT_TRUE(a->insert_builds(queued).ok());
    std::mutex mutex;
    std::multiset<BuildId> claimed;
    auto drain = [&](Store& s) {
        for (;;) {
            auto c = s.claim_next_queued();
            ASSERT_TRUE(c.ok()) << c.error().message;
            if (!c->has_value()) return;
            std::lock_guard lock(mutex);
            claimed.insert((*c)->id);
            ASSERT_TRUE(s.finish_build((*c)->id, BuildState::succeeded, "", "").ok());
        }
    };
    std::thread ta([&] { drain(*a); });
    std::thread tb([&] { drain(*b); });
    ta.join();
    tb.join();
    EXPECT_EQ(claimed.size(), 30u);
    EXPECT_EQ(std::set<BuildId>(claimed.begin(), claimed.end()).size(), 30u) << "a build was claimed twice";
}

TEST_F(PostgresStore, BytesThatAreNotUtf8SurviveInLogsAndDoNotBreakText) {
    auto s = instance();
    ASSERT_NE(s, nullptr);
    auto ids = s->insert_builds({hookyard::test::web_build("refs/heads/main")});
    ASSERT_TRUE(ids.ok());
    const BuildId id = (*ids)[0].id;
    const std::string raw("step \xff\xfe\0 done\n", 13);
    ASSERT_TRUE(s->append_log(id, raw).ok());
    EXPECT_EQ(s->read_log(id, 0, 1024)->data, raw);
    ASSERT_TRUE(s->claim(id).ok());
    ASSERT_TRUE(s->finish_build(id, BuildState::failed, "", std::string("bad \xc3 byte\0", 11)).ok());
    EXPECT_EQ(s->get_build(id)->error, "bad \xEF\xBF\xBD byte");
}

// An open connection of another instance on the same database whose counter stripe (backend pid % 16) is
// not that of any other connection there; nullptr after 50 tries.
PGconn* connect_on_a_stripe_of_its_own(const std::string& url) {
    for (int tries = 0; tries < 50; ++tries) {
        PGconn* c = PQconnectdb(url.c_str());
        PGresult* r = PQexec(c,
                             "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> "
                             "pg_backend_pid() AND pid % 16 = pg_backend_pid() % 16");
        const bool alone = PQresultStatus(r) == PGRES_TUPLES_OK && std::string(PQgetvalue(r, 0, 0)) == "0";
        PQclear(r);
        if (alone) return c;
        PQfinish(c);
    }
    return nullptr;
}

TEST_F(PostgresStore, AnAcceptNotYetCommittedOnOneInstanceDoesNotHoldUpAnothers) {
    auto a = instance();
    ASSERT_TRUE(a);
    PGconn* held = connect_on_a_stripe_of_its_own(m_server->url(m_db));
    ASSERT_NE(held, nullptr);
    // Another instance between its accept's inserts and its COMMIT (which waits for the disk).
    for (const char* sql : {"BEGIN",
                            "INSERT INTO deliveries (id, event, repository, received_ms) VALUES ('held', 'push', "
                            "'acme/web', 0)",
                            "INSERT INTO builds (state, repository, ref, rule_index, image, tags, created_ms) VALUES "
                            "('queued', 'acme/web', 'refs/heads/held', 0, 'docker.io/acme/web', '[]', 0)"}) {
        PGresult* r = PQexec(held, sql);
        EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(held);
        PQclear(r);
    }
    auto accepted = std::async(std::launch::async, [&] {
        return accept_sync(*a, Delivery{"free", "push", "acme/web", 0}, {hookyard::test::web_build("refs/heads/main")});
    });
    const bool in_time = accepted.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
    PQclear(PQexec(held, "ROLLBACK"));
    PQfinish(held);
    EXPECT_TRUE(in_time) << "the accept waited for another instance's uncommitted one (a counter row both update?)";
    const auto outcome = accepted.get();
    ASSERT_TRUE(outcome.ok()) << outcome.error().message;
    EXPECT_EQ(outcome->build_ids.size(), 1u);
    const auto stats = a->stats();
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->deliveries, 1);
}

TEST(PostgresFixture, UnderCtestATestUsesTheRunsServerInsteadOfStartingItsOwn) {
    if (std::getenv("HOOKYARD_TEST_POSTGRES_FIXTURE") == nullptr) {
        GTEST_SKIP() << "run outside ctest: the test process starts a server of its own";
    }
    std::string error;
    PostgresServer* server = PostgresServer::shared(&error);
    ASSERT_NE(server, nullptr) << error;
    EXPECT_TRUE(server->is_the_runs()) << "the ctest fixture's server (postgres_fixture_setup) was not found";
}
