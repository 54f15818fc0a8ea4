// `hookyard migrate -c FILE` on both stores, `serve` refusing a database newer than itself and a second
// serve on one SQLite file, run against the real binary (PostgreSQL: the server tests/support starts).

#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/support/postgres_server.hpp"
#include "tests/support/support.hpp"

namespace hookyard::test {
namespace {

// A valid config in `dir` whose storage: is `storage`, serving on `port`.
std::string migrate_config(const TempDir& dir, const std::string& storage, int port = 0) {
    const std::string file = dir / ("hookyard-" + std::to_string(port) + ".yaml");
    write_file(file, "server: { listen: \"127.0.0.1:" + std::to_string(port) +
                         "\", webhook_secret: migrate-webhook-secret-0123 }\ndata_dir: " + dir.path() +
                         "/data\nstorage: \"" + storage +
                         "\"\nregistries: { local: { endpoint: 127.0.0.1:5000 } }\n"
                         "repositories:\n  - { github: acme/web, registry: local, push_repo: "
                         "127.0.0.1:5000/acme/web, rules: [{ source: main, tag: latest }] }\n");
    return file;
}

TEST(MigrateCommand, SqliteIsMigratedAndReportsItsVersion) {
    TempDir dir;
    std::string out;
    ASSERT_EQ(
        run({binary_dir() + "/hookyard", "migrate", "-c", migrate_config(dir, "sqlite:" + dir.path() + "/h.db")}, &out),
        0)
        << out;
    EXPECT_NE(out.find("/h.db is at schema version "), std::string::npos) << out;
}

TEST(MigrateCommand, PostgresqlWithThePasswordFromTheEnvironmentNeverPrintsIt) {
    std::string error;
    PostgresServer* pg = PostgresServer::shared(&error);
    ASSERT_NE(pg, nullptr) << error;
    const std::string db = pg->new_database("migrate_cmd", &error);
    ASSERT_FALSE(db.empty()) << error;
    TempDir dir;
    const auto config = migrate_config(dir, pg->tcp_url(db, "${HOOKYARD_TEST_PG_PASSWORD}"));
    std::string out;
    ASSERT_EQ(run({binary_dir() + "/hookyard", "migrate", "-c", config}, &out, "",
                  {{"HOOKYARD_TEST_PG_PASSWORD", PostgresServer::k_password}}),
              0)
        << out;
    EXPECT_NE(out.find("is at schema version "), std::string::npos) << out;
    EXPECT_EQ(out.find(PostgresServer::k_password), std::string::npos) << out;
    std::string version;
    ASSERT_EQ(pg->psql(db, "SELECT MAX(version) FROM schema_migrations", &version), 0) << version;
    EXPECT_NE(out.find("schema version " + version.substr(0, version.find('\n'))), std::string::npos) << out;

    // A newer hookyard migrated it since: neither migrate nor serve touch it.
    ASSERT_EQ(pg->psql(db, "INSERT INTO schema_migrations VALUES (999, 0)"), 0);
    const std::map<std::string, std::string> env = {{"HOOKYARD_TEST_PG_PASSWORD", PostgresServer::k_password}};
    EXPECT_EQ(run({binary_dir() + "/hookyard", "migrate", "-c", config}, &out, "", env), 1) << out;
    EXPECT_NE(out.find("has schema version 999, newer than this hookyard knows"), std::string::npos) << out;
    Process serve({binary_dir() + "/hookyard", "serve", "-c", config}, dir / "serve.log", env);
    EXPECT_NE(serve.wait(std::chrono::seconds(60)), 0);
    EXPECT_NE(serve.log().find("has schema version 999, newer than this hookyard knows"), std::string::npos)
        << serve.log();
    EXPECT_EQ(serve.log().find(PostgresServer::k_password), std::string::npos) << serve.log();
}

TEST(ServeCommand, ASecondServeOnOneSqliteFileIsRefusedAndTheFirstGoesOn) {
    TempDir dir;
    const int port = free_port();
    Process first(
        {binary_dir() + "/hookyard", "serve", "-c", migrate_config(dir, "sqlite:" + dir.path() + "/h.db", port)},
        dir / "first.log");
    ASSERT_TRUE(wait_until([&] { return port_open(port) || !first.running(); }, std::chrono::seconds(30)) &&
                first.running())
        << first.log();
    Process second(
        {binary_dir() + "/hookyard", "serve", "-c", migrate_config(dir, "sqlite:" + dir.path() + "/h.db", free_port())},
        dir / "second.log");
    EXPECT_EQ(second.wait(std::chrono::seconds(30)), 1) << second.log();
    EXPECT_NE(second.log().find("another hookyard serve already uses " + dir.path() + "/h.db"), std::string::npos)
        << second.log();
    EXPECT_NE(second.log().find("use PostgreSQL"), std::string::npos) << second.log();
    EXPECT_TRUE(first.running()) << first.log();
}

}  // namespace
}  // namespace hookyard::test
