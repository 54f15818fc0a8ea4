// SQLite-only behaviour of the store: the file, its migrations. The contract itself is in
// store_contract_test.cpp.

#include <gtest/gtest.h>

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
    auto pg = open_store("postgresql://x@y/z");
    ASSERT_FALSE(pg.ok());
    EXPECT_EQ(pg.error().kind, ErrorKind::invalid_input);
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
