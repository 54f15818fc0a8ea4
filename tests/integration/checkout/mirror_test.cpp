// The checkout stage against real git servers on 127.0.0.1: git daemon (git://) and file:// paths.

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "pipeline/checkout/checkout.hpp"
#include "pipeline/checkout/mirror_cache.hpp"
#include "tests/support/git_server.hpp"
#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

using test::read_file;

// A source repository served by git daemon, and a mirror cache + checkout service over a data dir.
class CheckoutFixture : public ::testing::Test {
protected:
    CheckoutFixture()
        : m_source(m_tmp / "srv", "app"),
          m_daemon(m_tmp / "srv"),
          m_cache(m_tmp / "data/mirrors", RetryPolicy{2, std::chrono::milliseconds(10)}),
          m_service(make_checkout_service(m_cache)) {}

    CheckoutRequest request(const std::string& commit, const std::string& ref = "refs/heads/main") {
        CheckoutRequest req;
        req.repo_key = "acme/app";
        req.clone_url = m_daemon.url("app.git");
        req.ref = ref;
        req.commit = commit;
        req.dest_dir = m_tmp / ("work/" + std::to_string(m_next_work++));
        return req;
    }

    // Replaces main's last commit by another one ("new") and force-pushes it; returns the new tip.
    std::string force_push_over_tip() {
        m_source.reset_hard("HEAD~1");
        const std::string tip = m_source.commit({{"version", "new\n"}}, "rewritten");
        m_source.push("main", true);
        return tip;
    }

    // Checks `commit` out and expects not_found with a message naming the commit and saying `why`.
    void expect_not_found(const std::string& commit, const std::string& why) {
        auto co = m_service->checkout(request(commit));
        ASSERT_FALSE(co.ok());
        EXPECT_EQ(co.error().kind, util::ErrorKind::not_found);
        for (const std::string& word : {commit, why}) {
            EXPECT_NE(co.error().message.find(word), std::string::npos) << co.error().message;
        }
    }

    // The `version` file of a fresh checkout of `commit` on main ("" with a test failure when it fails).
    std::string version_at(const std::string& commit) {
        auto co = m_service->checkout(request(commit));
        EXPECT_TRUE(co.ok()) << co.error().message;
        return co ? read_file(co->dir.path() + "/version") : "";
    }

    test::TempDir m_tmp;
    test::SourceRepo m_source;
    test::GitDaemon m_daemon;
    MirrorCache m_cache;
    std::unique_ptr<CheckoutService> m_service;
    int m_next_work = 0;
};

// Enough content that a full clone carries many objects and a one-file change carries few.
std::map<std::string, std::string> many_files(int n, const std::string& salt) {
    std::map<std::string, std::string> files;
    for (int i = 0; i < n; ++i)
        files["src/file" + std::to_string(i) + ".txt"] = salt + " content " + std::to_string(i) + "\n";
    return files;
}

TEST_F(CheckoutFixture, FirstBuildClonesAndSecondOnlyFetchesNewObjects) {
    m_source.commit(many_files(60, "a"), "base");
    const std::string first = m_source.commit({{"Dockerfile", "FROM scratch\n"}}, "first");
    m_source.push();

    auto one = m_service->checkout(request(first));
    ASSERT_TRUE(one.ok()) << one.error().message;
    EXPECT_EQ(one->commit, first);
    EXPECT_TRUE(one->stats.created);
    EXPECT_EQ(read_file(one->dir.path() + "/src/file7.txt"), "a content 7\n");
    EXPECT_EQ(test::git({"rev-parse", "HEAD"}, one->dir.path()), first);
    const auto first_received = one->stats.received_objects;
    EXPECT_GT(first_received, 60u);

    const std::string second = m_source.commit({{"src/file3.txt", "changed\n"}}, "second");
    m_source.push();
    auto two = m_service->checkout(request(second));
    ASSERT_TRUE(two.ok()) << two.error().message;
    EXPECT_FALSE(two->stats.created);
    EXPECT_EQ(read_file(two->dir.path() + "/src/file3.txt"), "changed\n");
    // One commit, one tree path (2 trees) and one blob: far fewer than the first transfer.
    EXPECT_LE(two->stats.received_objects, 6u);
    EXPECT_GT(two->stats.received_objects, 0u);
    std::string fsck;
    EXPECT_EQ(test::run({"git", "-C", m_cache.mirror_path("acme/app"), "fsck", "--no-progress"}, &fsck), 0) << fsck;
}

TEST_F(CheckoutFixture, ChecksOutThePushedCommitNotTheBranchTip) {
    const std::string older = m_source.commit({{"version", "1\n"}}, "one");
    m_source.commit({{"version", "2\n"}}, "two");
    m_source.push();
    EXPECT_EQ(version_at(older), "1\n");
}

TEST_F(CheckoutFixture, EmptyCommitBuildsTheRefsCurrentHead) {
    m_source.commit({{"version", "1\n"}}, "one");
    const std::string head = m_source.commit({{"version", "2\n"}}, "two");
    m_source.push();
    auto co = m_service->checkout(request("", "main"));
    ASSERT_TRUE(co.ok()) << co.error().message;
    EXPECT_EQ(co->commit, head);
    EXPECT_EQ(co->ref, "refs/heads/main");
}

TEST_F(CheckoutFixture, ForcePushedBranchBuildsTheNewHead) {
    m_source.commit({{"version", "1\n"}}, "base");
    const std::string old_tip = m_source.commit({{"version", "old\n"}}, "old");
    m_source.push();
    ASSERT_TRUE(m_service->checkout(request(old_tip)).ok());

    const std::string new_tip = force_push_over_tip();
    EXPECT_EQ(version_at(new_tip), "new\n");
}

TEST_F(CheckoutFixture, CommitForcePushedAwayBeforeFetchFailsNamingIt) {
    m_source.commit({{"version", "1\n"}}, "base");
    const std::string gone = m_source.commit({{"version", "gone\n"}}, "gone");
    m_source.push();
    force_push_over_tip();
    test::git({"gc", "-q", "--prune=now"}, m_source.bare());

    expect_not_found(gone, "force-pushed");
}

TEST_F(CheckoutFixture, CommitNoLongerReachableFromTheRefFails) {
    m_source.commit({{"version", "1\n"}}, "base");
    const std::string old_tip = m_source.commit({{"version", "old\n"}}, "old");
    m_source.push();
    ASSERT_TRUE(m_service->checkout(request(old_tip)).ok());  // the mirror now holds old_tip's objects
    force_push_over_tip();

    expect_not_found(old_tip, "no longer on refs/heads/main");
}

TEST_F(CheckoutFixture, BuildsAnAnnotatedTag) {
    const std::string tagged = m_source.commit({{"version", "1.0\n"}}, "release");
    m_source.push();
    m_source.push_tag("v1.0");
    m_source.commit({{"version", "1.1-dev\n"}}, "later");
    m_source.push();

    auto co = m_service->checkout(request("", "refs/tags/v1.0"));
    ASSERT_TRUE(co.ok()) << co.error().message;
    EXPECT_EQ(co->commit, tagged);
    EXPECT_EQ(read_file(co->dir.path() + "/version"), "1.0\n");
    // A short name that is no branch is looked up as a tag, and the pushed commit is verified against it.
    auto by_name = m_service->checkout(request(tagged, "v1.0"));
    ASSERT_TRUE(by_name.ok()) << by_name.error().message;
    EXPECT_EQ(by_name->ref, "refs/tags/v1.0");
}

TEST_F(CheckoutFixture, MissingRefIsNotFound) {
    m_source.commit({{"a", "1\n"}}, "one");
    m_source.push();
    auto co = m_service->checkout(request("", "refs/heads/nope"));
    ASSERT_FALSE(co.ok());
    EXPECT_EQ(co.error().kind, util::ErrorKind::not_found);
    EXPECT_NE(co.error().message.find("refs/heads/nope"), std::string::npos) << co.error().message;
}

TEST_F(CheckoutFixture, ConcurrentCheckoutsOfOneRepositoryAllSucceedAndKeepTheMirrorIntact) {
    m_source.commit(many_files(40, "c"), "base");
    std::vector<std::string> commits;
    for (int i = 0; i < 4; ++i)
        commits.push_back(m_source.commit({{"n", std::to_string(i) + "\n"}}, "c" + std::to_string(i)));
    m_source.push();

    std::vector<CheckoutRequest> reqs;
    for (int i = 0; i < 6; ++i) reqs.push_back(request(commits[static_cast<std::size_t>(i) % commits.size()]));
    std::vector<std::string> results(reqs.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < reqs.size(); ++i) {
        threads.emplace_back([&, i] {
            auto co = m_service->checkout(reqs[i]);
            if (!co) {
                results[i] = "error: " + co.error().message;
                return;
            }
            co->dir.keep();
            results[i] = read_file(co->dir.path() + "/n");
        });
    }
    for (auto& t : threads) t.join();
    for (std::size_t i = 0; i < reqs.size(); ++i) EXPECT_EQ(results[i], std::to_string(i % commits.size()) + "\n");
    std::string out;
    EXPECT_EQ(test::run({"git", "-C", m_cache.mirror_path("acme/app"), "fsck", "--no-progress"}, &out), 0) << out;
}

// Two caches over one data dir stand in for two hookyard processes: only the flock keeps them apart.
TEST_F(CheckoutFixture, TwoCachesSharingADataDirTakeTurnsOnTheMirror) {
    m_source.commit(many_files(40, "p"), "base");
    std::vector<std::string> commits;
    for (int i = 0; i < 3; ++i) {
        commits.push_back(m_source.commit({{"n", std::to_string(i) + "\n"}}, "c" + std::to_string(i)));
        m_source.push("branch" + std::to_string(i));
    }
    MirrorCache other(m_tmp / "data/mirrors", RetryPolicy{1, std::chrono::milliseconds(1)});
    std::vector<std::string> errors(6);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < errors.size(); ++i) {
        threads.emplace_back([&, i] {
            MirrorCache& cache = i % 2 == 0 ? m_cache : other;
            const std::size_t c = i % commits.size();
            auto mirror =
                cache.update("acme/app", m_daemon.url("app.git"), "branch" + std::to_string(c), commits[c], {});
            if (!mirror) errors[i] = mirror.error().message;
        });
    }
    for (auto& t : threads) t.join();
    for (const auto& e : errors) EXPECT_EQ(e, "");
    std::string out;
    EXPECT_EQ(test::run({"git", "-C", m_cache.mirror_path("acme/app"), "fsck", "--no-progress"}, &out), 0) << out;
    for (std::size_t c = 0; c < commits.size(); ++c) {
        EXPECT_EQ(test::git({"rev-parse", "refs/heads/branch" + std::to_string(c)}, m_cache.mirror_path("acme/app")),
                  commits[c]);
    }
}

TEST_F(CheckoutFixture, WorkDirIsRemovedWhenTheCheckoutEndsUnlessKept) {
    const std::string sha = m_source.commit({{"a", "1\n"}}, "one");
    m_source.push();
    std::string removed, kept;
    {
        auto co = m_service->checkout(request(sha));
        ASSERT_TRUE(co.ok()) << co.error().message;
        removed = co->dir.path();
        ASSERT_TRUE(std::filesystem::exists(removed + "/a"));
    }
    {
        auto co = m_service->checkout(request(sha));
        ASSERT_TRUE(co.ok()) << co.error().message;
        kept = co->dir.path();
        co->dir.keep();
    }
    EXPECT_FALSE(std::filesystem::exists(removed));
    EXPECT_TRUE(std::filesystem::exists(kept + "/a"));
}

TEST_F(CheckoutFixture, FileUrlAndPlainPathWork) {
    const std::string sha = m_source.commit({{"a", "file\n"}}, "one");
    m_source.push();
    for (const std::string& url : {"file://" + m_source.bare(), m_source.bare()}) {
        auto req = request(sha);
        req.clone_url = url;
        req.repo_key = url.rfind("file", 0) == 0 ? "acme/by-url" : "acme/by-path";
        auto co = m_service->checkout(req);
        ASSERT_TRUE(co.ok()) << url << ": " << co.error().message;
        EXPECT_EQ(read_file(co->dir.path() + "/a"), "file\n");
    }
}

TEST_F(CheckoutFixture, RefusesToTakeOverANonEmptyWorkDir) {
    const std::string sha = m_source.commit({{"a", "1\n"}}, "one");
    m_source.push();
    auto req = request(sha);
    test::write_file(req.dest_dir + "/precious", "keep me");
    auto co = m_service->checkout(req);
    ASSERT_FALSE(co.ok());
    EXPECT_EQ(co.error().kind, util::ErrorKind::invalid_input);
    EXPECT_TRUE(std::filesystem::exists(req.dest_dir + "/precious"));
}

}  // namespace
}  // namespace hookyard::pipeline
