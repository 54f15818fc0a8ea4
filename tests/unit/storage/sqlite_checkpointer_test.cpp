// The SQLite store's WAL upkeep: the WAL's blocks are written ahead of the commits, checkpoints still run
// (SQLite's automatic one is off), and a copy taken as a kill -9 leaves the files reads back every commit.

#include "storage/sqlite_checkpointer.hpp"

#include <gtest/gtest.h>
#include <sys/statvfs.h>

#include <filesystem>

#include "storage/store.hpp"
#include "tests/support/support.hpp"

using namespace hookyard::storage;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

class WalUpkeepTest : public ::testing::Test {
protected:
    void SetUp() override {
        struct statvfs st {};
        const std::string dir = m_dir / "";
        if (::statvfs(dir.c_str(), &st) != 0 ||
            static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize < 2 * sqlite::WalCheckpointer::k_reserve_min_free) {
            GTEST_SKIP() << "needs 512 MiB free in the temp dir";
        }
        auto store = make_sqlite_store(m_dir / "hookyard.db");
        ASSERT_TRUE(store.ok()) << store.error().message;
        m_store = std::move(*store);
        NewBuild chatty;
        chatty.repository = "acme/chatty", chatty.ref = "refs/heads/main", chatty.image = "docker.io/acme/chatty";
        auto inserted = m_store->insert_builds({chatty});
        ASSERT_TRUE(inserted.ok()) << inserted.error().message;
        m_id = inserted->front().id;
    }

    std::uintmax_t size_of(const std::string& name) {
        std::error_code ec;
        const auto n = fs::file_size(m_dir / name, ec);
        return ec ? 0 : n;
    }

    hookyard::test::TempDir m_dir;
    std::unique_ptr<Store> m_store;
    BuildId m_id = 0;
};

}  // namespace

TEST_F(WalUpkeepTest, TheWalIsWrittenAheadAndCheckpointsRunOffTheCommitPath) {
    EXPECT_TRUE(hookyard::test::wait_until(
        [&] { return size_of("hookyard.db-wal") >= sqlite::WalCheckpointer::k_reserve_bytes; }, 30s))
        << "WAL size " << size_of("hookyard.db-wal");
    const std::string batch(64 * 1024, 'x');
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(m_store->append_log(m_id, batch).ok());
    // 6.4 MB of log is past the checkpoint threshold: the pages reach the database file.
    EXPECT_TRUE(hookyard::test::wait_until([&] { return size_of("hookyard.db") > 6000000; }, 30s))
        << "database size " << size_of("hookyard.db") << ", WAL " << size_of("hookyard.db-wal");
}

TEST_F(WalUpkeepTest, FilesCopiedAsAKillLeavesThemReadBackEveryCommit) {
    ASSERT_TRUE(hookyard::test::wait_until(
        [&] { return size_of("hookyard.db-wal") >= sqlite::WalCheckpointer::k_reserve_bytes; }, 30s));
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(m_store->append_log(m_id, "line " + std::to_string(i) + "\n").ok());
    const fs::path copy = m_dir / "copy";
    fs::create_directories(copy);
    for (const char* f : {"hookyard.db", "hookyard.db-wal"}) fs::copy_file(m_dir / f, copy / f);
    auto reopened = make_sqlite_store(copy / "hookyard.db");
    ASSERT_TRUE(reopened.ok()) << reopened.error().message;
    auto log = (*reopened)->read_log(m_id, 0, 1 << 20);
    ASSERT_TRUE(log.ok()) << log.error().message;
    EXPECT_EQ(log->data.substr(0, 7), "line 0\n");
    EXPECT_NE(log->data.find("line 9\n"), std::string::npos) << log->data;
}
