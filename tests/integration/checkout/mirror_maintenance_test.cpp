// Mirror maintenance against a real repository served by git daemon: refs deleted upstream leave the
// mirror at the next fetch, a repack leaves one pack without the garbage, and mirrors and pooled work
// trees of repositories no longer configured are removed.

#include "pipeline/checkout/mirror_maintenance.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "pipeline/checkout/checkout.hpp"
#include "pipeline/checkout/work_pool.hpp"
#include "tests/support/git_server.hpp"
#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;

class MirrorMaintenanceTest : public ::testing::Test {
protected:
    // Checks out `ref` of the served repository as mirror `key`; the checkout's fetch stats.
    FetchStats fetch(const std::string& ref, const std::string& key = "acme/app") {
        CheckoutRequest req;
        req.repo_key = key;
        req.clone_url = m_daemon.url("app.git");
        req.ref = ref;
        req.dest_dir = m_tmp / ("work/" + std::to_string(m_next_work++));
        auto co = m_service->checkout(req);
        EXPECT_TRUE(co.ok()) << co.error().message;
        return co ? co->stats : FetchStats{};
    }

    std::string mirror() { return m_cache.mirror_path("acme/app"); }

    int packs() {
        int n = 0;
        for (const auto& e : fs::directory_iterator(mirror() + "/objects/pack")) n += e.path().extension() == ".pack";
        return n;
    }

    bool has_object(const std::string& sha) { return test::run({"git", "-C", mirror(), "cat-file", "-e", sha}) == 0; }

    // Incompressible content, so that dropping it shows in the mirror's size.
    static std::string random_bytes(std::size_t n) {
        std::mt19937 rng(42);
        std::string out(n, '\0');
        for (auto& c : out) c = static_cast<char>(rng());
        return out;
    }

    test::TempDir m_tmp;
    test::SourceRepo m_source{m_tmp / "srv", "app"};
    test::GitDaemon m_daemon{m_tmp / "srv"};
    MirrorCache m_cache{m_tmp / "data/mirrors", RetryPolicy{2, std::chrono::milliseconds(10)}};
    WorkTreePool m_pool{m_tmp / "data/worktrees"};
    std::unique_ptr<CheckoutService> m_service = make_checkout_service(m_cache, &m_pool);
    int m_next_work = 0;
};

TEST_F(MirrorMaintenanceTest, AFetchDeletesBranchesAndTagsDeletedUpstream) {
    m_source.commit({{"a.txt", "a\n"}}, "one");
    m_source.push("main");
    m_source.push("feature");
    m_source.push_tag("v1");
    fetch("refs/heads/feature");
    fetch("refs/heads/main");
    ASSERT_EQ(test::run({"git", "-C", mirror(), "rev-parse", "--verify", "-q", "refs/heads/feature"}), 0);
    ASSERT_EQ(test::run({"git", "-C", mirror(), "rev-parse", "--verify", "-q", "refs/tags/v1"}), 0);

    test::git({"branch", "-D", "feature"}, m_source.bare());
    test::git({"tag", "-d", "v1"}, m_source.bare());
    const auto stats = fetch("refs/heads/main");
    EXPECT_EQ(stats.pruned_refs, 2u);
    EXPECT_NE(test::run({"git", "-C", mirror(), "rev-parse", "--verify", "-q", "refs/heads/feature"}), 0);
    EXPECT_NE(test::run({"git", "-C", mirror(), "rev-parse", "--verify", "-q", "refs/tags/v1"}), 0);
    EXPECT_EQ(test::run({"git", "-C", mirror(), "rev-parse", "--verify", "-q", "refs/heads/main"}), 0);
}

TEST_F(MirrorMaintenanceTest, ARepackLeavesOnePackWithEveryReachableObjectAndWithoutTheGarbage) {
    std::string head;
    for (int i = 0; i < 3; ++i) {
        head = m_source.commit({{"n.txt", std::to_string(i) + "\n"}}, "commit " + std::to_string(i));
        m_source.push("main");
        fetch("refs/heads/main");
    }
    m_source.push_tag("v1");
    const std::string doomed = m_source.commit({{"big.bin", random_bytes(1 << 20)}}, "a branch deleted later");
    m_source.push("doomed");
    fetch("refs/heads/doomed");
    test::git({"branch", "-D", "doomed"}, m_source.bare());
    fetch("refs/heads/main");  // prunes refs/heads/doomed: its commit is garbage now
    ASSERT_GE(packs(), 4);
    ASSERT_TRUE(has_object(doomed));

    MirrorMaintenanceOptions options;
    options.pack_limit = 3;
    MirrorMaintenance maintenance(m_cache, m_tmp / "data/worktrees", {"acme/app"}, options);
    const auto result = maintenance.run_once();
    EXPECT_EQ(result.repacked, 1);
    EXPECT_EQ(result.failed, 0);
    EXPECT_LT(result.bytes_after + (1 << 19), result.bytes_before) << "the 1 MiB blob went";
    EXPECT_EQ(packs(), 1);
    EXPECT_FALSE(has_object(doomed));
    EXPECT_TRUE(has_object(head));
    EXPECT_TRUE(has_object("refs/tags/v1"));  // the annotated tag object itself
    std::string fsck;
    EXPECT_EQ(test::run({"git", "-C", mirror(), "fsck", "--no-progress", "--no-dangling"}, &fsck), 0) << fsck;

    // Checkouts read the repacked mirror; a second run finds nothing to do.
    const std::string next = m_source.commit({{"n.txt", "after\n"}}, "after the repack");
    m_source.push("main");
    fetch("refs/heads/main");
    EXPECT_TRUE(has_object(next));
    EXPECT_EQ(maintenance.run_once().repacked, 0) << "two packs are under the limit";
}

TEST_F(MirrorMaintenanceTest, MirrorsAndWorkTreesOfUnconfiguredRepositoriesAreRemoved) {
    m_source.commit({{"a.txt", "a\n"}}, "one");
    m_source.push("main");
    fetch("refs/heads/main", "acme/app");
    fetch("refs/heads/main", "acme/old");
    ASSERT_TRUE(fs::exists(m_cache.mirror_path("acme/old")));
    ASSERT_TRUE(fs::exists(m_tmp / "data/worktrees/acme/old")) << "the finished checkout was pooled";
    fs::create_directories(m_tmp / "data/worktrees/gone/repo/1");  // a pool whose mirror went earlier

    MirrorMaintenance maintenance(m_cache, m_tmp / "data/worktrees", {"acme/app"});
    const auto result = maintenance.run_once();
    EXPECT_EQ(result.removed_mirrors, 1);
    EXPECT_EQ(result.removed_worktrees, 2);
    EXPECT_FALSE(fs::exists(m_cache.mirror_path("acme/old")));
    EXPECT_FALSE(fs::exists(m_cache.mirror_path("acme/old") + ".lock"));
    EXPECT_FALSE(fs::exists(m_tmp / "data/worktrees/acme/old"));
    EXPECT_FALSE(fs::exists(m_tmp / "data/worktrees/gone/repo"));
    EXPECT_TRUE(fs::exists(m_cache.mirror_path("acme/app")));
    EXPECT_TRUE(fs::exists(m_tmp / "data/worktrees/acme/app"));
    EXPECT_EQ(m_cache.keys(), std::vector<std::string>{"acme/app"});
}

}  // namespace
}  // namespace hookyard::pipeline
