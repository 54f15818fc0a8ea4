// SQLite-only behaviour of the store: the file, its migrations. The contract itself is in
// store_contract_test.cpp.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "storage/sqlite_checkpointer.hpp"
#include "storage/sqlite_db.hpp"
#include "storage/sqlite_migrations.hpp"
#include "storage/store.hpp"
#include "tests/support/support.hpp"

using namespace hookyard::storage;
using hookyard::util::ErrorKind;

namespace {

class SqliteStore : public ::testing::Test {
protected:
    std::unique_ptr<Store> open() {
        auto s = make_sqlite_store(m_dir / "hookyard.db");
        EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
        return std::move(*s);
    }
    hookyard::test::TempDir m_dir;
};

}  // namespace

TEST_F(SqliteStore, OpenFailsWithTheFileNameWhenDirectoryIsMissing) {
    auto s = make_sqlite_store(m_dir / "missing/dir/hookyard.db");
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("missing/dir/hookyard.db"), std::string::npos);
    auto other = open_store("mysql://x@y/z");
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.error().kind, ErrorKind::invalid_input);
}

TEST_F(SqliteStore, MigrationsAreRecordedOnce) {
    auto count = [&] {
        auto db = hookyard::storage::sqlite::Db::open(m_dir / "hookyard.db");
        EXPECT_TRUE(db.ok());
        auto q = (*db)->query("SELECT COUNT(*), MAX(version) FROM schema_migrations");
        EXPECT_TRUE(q.ok());
        EXPECT_TRUE(*q->step());
        EXPECT_EQ(q->int_at(1), hookyard::storage::sqlite::latest_schema_version());
        return q->int_at(0);
    };
    { auto s = open(); }
    const auto first = count();
    EXPECT_GE(first, 4);
    auto s = open();
    EXPECT_TRUE(s->ping().ok());
    EXPECT_EQ(count(), first);
}

// Migrations merged out of number order (5 shipped before 4): the missing one still applies on the next open.
TEST_F(SqliteStore, AppliesAMigrationMissingBelowTheHighest) {
    { auto s = open(); }
    {
        auto db = hookyard::storage::sqlite::Db::open(m_dir / "hookyard.db");
        ASSERT_TRUE(db.ok());
        ASSERT_TRUE((*db)
                        ->exec("DELETE FROM schema_migrations WHERE version = 3; DROP TABLE pushed_images; "
                               "ALTER TABLE builds DROP COLUMN crash_streak")
                        .ok());
    }
    auto s = open();
    ASSERT_TRUE(s->ping().ok());
    auto db = hookyard::storage::sqlite::Db::open(m_dir / "hookyard.db");
    ASSERT_TRUE(db.ok());
    auto q = (*db)->query("SELECT COUNT(*) FROM schema_migrations WHERE version = 3");
    ASSERT_TRUE(q.ok());
    ASSERT_TRUE(*q->step());
    EXPECT_EQ(q->int_at(0), 1);
    EXPECT_TRUE((*db)->exec("SELECT crash_streak FROM builds; SELECT image FROM pushed_images").ok());
}

namespace {

std::int64_t single_int(const std::string& path, const std::string& sql) {
    auto db = hookyard::storage::sqlite::Db::open(path);
    EXPECT_TRUE(db.ok());
    auto q = (*db)->query(sql);
    EXPECT_TRUE(q.ok()) << sql;
    EXPECT_TRUE(*q->step());
    return q->int_at(0);
}

void exec(const std::string& path, const std::string& sql) {
    auto db = hookyard::storage::sqlite::Db::open(path);
    ASSERT_TRUE(db.ok());
    auto st = (*db)->exec(sql);
    ASSERT_TRUE(st.ok()) << st.error().message;
}

NewBuild a_build() {
    NewBuild b;
    b.repository = "acme/web";
    b.ref = "refs/heads/main";
    b.image = "docker.io/acme/web";
    return b;
}

}  // namespace

TEST_F(SqliteStore, Migration4SeedsTheCountersAndSwitchesAnOldFileToIncrementalVacuum) {
    const std::string path = m_dir / "hookyard.db";
    {
        auto s = open();
        ASSERT_TRUE(s->insert_builds({a_build(), a_build(), a_build()}).ok());
    }
    // Back to what a hookyard before migration 4 left: no counters, no leases, auto_vacuum off.
    exec(path,
         "DROP TRIGGER counters_build_insert; DROP TRIGGER counters_build_state; DROP TRIGGER counters_build_delete; "
         "DROP TRIGGER counters_delivery_insert; DROP TRIGGER counters_delivery_delete; DROP TABLE counters; "
         "DROP TABLE leases; DELETE FROM schema_migrations WHERE version = 4; "
         "PRAGMA auto_vacuum = NONE; VACUUM;");
    ASSERT_EQ(single_int(path, "PRAGMA auto_vacuum"), 0);
    auto s = open();
    EXPECT_EQ(s->stats()->builds_by_state[BuildState::queued], 3);
    EXPECT_EQ(single_int(path, "PRAGMA auto_vacuum"), 2) << "2 = incremental";
    EXPECT_EQ(single_int(path, "SELECT COUNT(*) FROM builds"), 3);
}

TEST_F(SqliteStore, PruningGivesTheSpaceBackToTheFileSystem) {
    const std::string path = m_dir / "hookyard.db";
    auto s = open();
    const std::string chunk(64 * 1024, 'x');
    for (int i = 0; i < 20; ++i) {
        auto b = s->insert_builds({a_build()});
        ASSERT_TRUE(b.ok());
        ASSERT_TRUE(s->claim(b->at(0).id).ok());
        for (int k = 0; k < 8; ++k) ASSERT_TRUE(s->append_log(b->at(0).id, chunk).ok());
        ASSERT_TRUE(s->finish_build(b->at(0).id, BuildState::failed, "", "").ok());
    }
    PrunePolicy all;
    all.builds_before = TimeMs{1} << 60;
    all.keep_per_rule = 0;
    ASSERT_TRUE(s->prune(all).ok());
    const auto bytes = std::filesystem::file_size(path);
    const auto wal = std::filesystem::file_size(path + "-wal");
    EXPECT_LT(bytes, 1024u * 1024) << "10 MB of logs were pruned; the file kept " << bytes << " bytes";
    // Truncated, then written ahead again up to its reserve (sqlite_checkpointer.hpp), never past it.
    EXPECT_LE(wal, sqlite::WalCheckpointer::k_reserve_bytes) << "the WAL is checkpointed and truncated after pruning";
}

TEST_F(SqliteStore, StatsCostNothingAtAnyStoreSize) {
    auto s = open();
    std::vector<NewBuild> many(30000, a_build());
    ASSERT_TRUE(s->insert_builds(std::move(many)).ok());
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(s->stats()->builds_by_state[BuildState::queued], 30000);
    const auto took = std::chrono::steady_clock::now() - start;
    // Counting 30,000 rows takes over a millisecond per call; maintained counters take microseconds.
    EXPECT_LT(took, std::chrono::milliseconds(200))
        << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms for 1000 scrapes";
}

// One serve per file (a lock): the claim records the instance, and recovery at start is immediate, whoever
// claimed and whatever the lease.
TEST_F(SqliteStore, AClaimRecordsTheInstanceAndRecoveryTakesEveryRunningBuildAtOnce) {
    auto store = open();
    store->set_cluster(ClusterIdentity{"solo", std::chrono::hours(1)});
    NewBuild b;
    b.repository = "acme/web", b.ref = "refs/heads/main", b.image = "docker.io/acme/web";
    ASSERT_TRUE(store->insert_builds({b}).ok());
    auto claimed = store->claim_next_queued();
    ASSERT_TRUE(claimed.ok() && claimed->has_value());
    EXPECT_EQ((*claimed)->instance, "solo");
    EXPECT_EQ(*store->requeue_expired(3), 0);
    store->set_cluster(ClusterIdentity{"renamed", std::chrono::hours(1)});
    EXPECT_EQ(*store->requeue_running(3), 1);
}
