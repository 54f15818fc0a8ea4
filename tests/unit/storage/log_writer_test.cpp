// LogWriter: batched writes, the per-build cap with head, marker and tail, long lines split.

#include "storage/log_writer.hpp"

#include <gtest/gtest.h>

#include "storage/sqlite_db.hpp"
#include "storage/store.hpp"
#include "tests/support/support.hpp"

using namespace hookyard::storage;

namespace {

class LogWriterTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto s = make_sqlite_store(m_dir / "hookyard.db");
        ASSERT_TRUE(s.ok());
        m_store = std::move(*s);
        NewBuild b;
        b.repository = "acme/web";
        b.ref = "refs/heads/main";
        b.image = "docker.io/acme/web";
        auto builds = m_store->insert_builds({b});
        ASSERT_TRUE(builds.ok());
        m_id = builds->at(0).id;
    }
    std::string stored() {
        auto c = m_store->read_log(m_id, 0, 64 << 20);
        EXPECT_TRUE(c.ok());
        return c.ok() ? c->data : "";
    }
    std::int64_t rows() {
        auto db = sqlite::Db::open(m_dir / "hookyard.db");
        auto q = (*db)->query("SELECT COUNT(*) FROM build_logs WHERE build_id = ?");
        q->bind_all(m_id);
        EXPECT_TRUE(*q->step());
        return q->int_at(0);
    }
    hookyard::test::TempDir m_dir;
    std::unique_ptr<Store> m_store;
    BuildId m_id = 0;
};

}  // namespace

TEST_F(LogWriterTest, ManyLinesBecomeFewBatches) {
    std::string expected;
    {
        LogWriter w(*m_store, m_id, LogLimits{});
        for (int i = 1; i <= 20000; ++i) {
            w.line(std::to_string(i));
            expected += std::to_string(i) + "\n";
        }
    }
    EXPECT_EQ(stored(), expected);
    EXPECT_LT(rows(), 20);  // 108 KB: a couple of 64 KiB batches plus interval flushes, never 20,000
}

TEST_F(LogWriterTest, FlushAndTheIntervalMakeLinesVisible) {
    LogWriter w(*m_store, m_id, LogLimits{});
    w.line("step 1");
    w.flush();
    EXPECT_EQ(stored(), "step 1\n");
    w.line("step 2");
    for (int i = 0; i < 500 && stored() != "step 1\nstep 2\n"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(stored(), "step 1\nstep 2\n");
}

TEST_F(LogWriterTest, CapKeepsHeadAndTailWithAMarker) {
    LogLimits limits;
    limits.max_size = 1000;
    {
        LogWriter w(*m_store, m_id, limits);
        for (int i = 0; i < 1000; ++i) w.line("line " + std::to_string(i));
    }
    const std::string log = stored();
    EXPECT_LE(log.size(), 1000u);
    EXPECT_EQ(log.rfind("line 0\nline 1\n", 0), 0u);
    EXPECT_NE(log.find("line 999\n"), std::string::npos);
    EXPECT_EQ(log.back(), '\n');
    const auto marker = log.find("hookyard: log exceeds builder.max_log_size (1000 bytes): ");
    ASSERT_NE(marker, std::string::npos);
    EXPECT_NE(log.find("bytes (", marker), std::string::npos);
    EXPECT_EQ(log.find("line 500\n"), std::string::npos);
}

TEST_F(LogWriterTest, UnderTheCapNothingIsDroppedOrMarked) {
    LogLimits limits;
    limits.max_size = 1000;
    LogWriter w(*m_store, m_id, limits);
    for (int i = 0; i < 100; ++i) w.line("line " + std::to_string(i));  // 790 bytes: head, then tail
    w.close();
    EXPECT_EQ(w.dropped_bytes(), 0u);
    EXPECT_EQ(stored().find("hookyard:"), std::string::npos);
    EXPECT_NE(stored().find("line 99\n"), std::string::npos);
}

TEST_F(LogWriterTest, VeryLongLinesAreSplit) {
    LogLimits limits;
    limits.max_line = 10;
    LogWriter w(*m_store, m_id, limits);
    w.line(std::string(25, 'x'));
    w.line("");
    w.close();
    EXPECT_EQ(stored(), std::string(10, 'x') + "\n" + std::string(10, 'x') + "\n" + std::string(5, 'x') + "\n\n");
}
