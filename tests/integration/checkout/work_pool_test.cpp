// Warm builds through the work-tree pool: the previous build's tree, updated in place, must hold exactly
// the new commit.

#include <gtest/gtest.h>

#include <filesystem>

#include "pipeline/checkout/checkout.hpp"
#include "tests/support/git_server.hpp"
#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;

class PoolFixture : public ::testing::Test {
protected:
    PoolFixture()
        : m_source(m_tmp / "srv", "app"),
          m_cache(m_tmp / "data/mirrors"),
          m_pool(m_tmp / "data/pool"),
          m_service(make_checkout_service(m_cache, &m_pool)) {}

    CheckoutRequest request(const std::string& commit, const std::string& dest) {
        return CheckoutRequest{"acme/app", "file://" + m_source.bare(), "main", commit, m_tmp / dest, false, {}};
    }

    test::TempDir m_tmp;
    test::SourceRepo m_source;
    MirrorCache m_cache;
    WorkTreePool m_pool;
    std::unique_ptr<CheckoutService> m_service;
};

TEST_F(PoolFixture, WarmBuildReusesTheLastTreeAndHoldsExactlyTheNewCommit) {
    m_source.commit({{"keep.txt", "same\n"}, {"edit.txt", "v1\n"}, {"gone.txt", "bye\n"}, {".gitignore", "*.log\n"}},
                    "one");
    m_source.push();
    std::string first_dir;
    {
        auto co = m_service->checkout(request("", "work/1"));
        ASSERT_TRUE(co.ok()) << co.error().message;
        EXPECT_FALSE(co->reused_tree);
        first_dir = co->dir.path();
        // What a build or a hook may leave behind: edits, new files, ignored files.
        test::write_file(first_dir + "/keep.txt", "scribbled\n");
        test::write_file(first_dir + "/untracked/new.bin", "junk\n");
        test::write_file(first_dir + "/build.log", "ignored junk\n");
    }
    EXPECT_FALSE(fs::exists(first_dir));  // parked in the pool, no longer at the build's path

    test::git({"rm", "-q", "gone.txt"}, m_source.work());
    const std::string second = m_source.commit({{"edit.txt", "v2\n"}, {"added.txt", "new\n"}}, "two");
    m_source.push();
    auto co = m_service->checkout(request(second, "work/2"));
    ASSERT_TRUE(co.ok()) << co.error().message;
    EXPECT_TRUE(co->reused_tree);
    const std::string dir = co->dir.path();
    EXPECT_EQ(test::read_file(dir + "/keep.txt"), "same\n");
    EXPECT_EQ(test::read_file(dir + "/edit.txt"), "v2\n");
    EXPECT_EQ(test::read_file(dir + "/added.txt"), "new\n");
    EXPECT_FALSE(fs::exists(dir + "/gone.txt"));
    EXPECT_FALSE(fs::exists(dir + "/untracked"));
    EXPECT_FALSE(fs::exists(dir + "/build.log"));
    EXPECT_EQ(test::git({"rev-parse", "HEAD"}, dir), second);
    EXPECT_EQ(test::git({"status", "--porcelain", "--ignored"}, dir), "");
}

TEST_F(PoolFixture, KeptTreesAreNotPooled) {
    const std::string sha = m_source.commit({{"a", "1\n"}}, "one");
    m_source.push();
    {
        auto co = m_service->checkout(request(sha, "work/1"));
        ASSERT_TRUE(co.ok()) << co.error().message;
        co->dir.keep();
    }
    EXPECT_TRUE(fs::exists(m_tmp / "work/1/a"));
    auto co = m_service->checkout(request(sha, "work/2"));
    ASSERT_TRUE(co.ok()) << co.error().message;
    EXPECT_FALSE(co->reused_tree);
}

TEST_F(PoolFixture, SubmoduleCheckoutsNeverUseThePool) {
    const std::string sha = m_source.commit({{"a", "1\n"}}, "one");
    m_source.push();
    { ASSERT_TRUE(m_service->checkout(request(sha, "work/1")).ok()); }  // parks a tree
    auto req = request(sha, "work/2");
    req.submodules = true;
    auto co = m_service->checkout(req);
    ASSERT_TRUE(co.ok()) << co.error().message;
    EXPECT_FALSE(co->reused_tree);
}

}  // namespace
}  // namespace hookyard::pipeline
