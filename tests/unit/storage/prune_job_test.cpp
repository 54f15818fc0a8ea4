// serve's PruneJob: runs on demand, and only while it holds the store's prune lease, so that several
// instances sharing one database prune once.

#include <gtest/gtest.h>

#include <atomic>

#include "storage/retention.hpp"
#include "tests/support/fake_store.hpp"
#include "tests/support/support.hpp"

using namespace hookyard::storage;

namespace {

// One old failed build: any run of the default retention (keep_per_rule 0) removes it.
BuildId old_failed_build(Store& store) {
    NewBuild nb;
    nb.repository = "acme/web";
    nb.ref = "refs/heads/main";
    auto b = store.insert_builds({nb});
    EXPECT_TRUE(b.ok());
    EXPECT_TRUE(store.claim(b->at(0).id).ok());
    EXPECT_TRUE(store.finish_build(b->at(0).id, BuildState::failed, "", "").ok());
    return b->at(0).id;
}

}  // namespace

TEST(PruneJob, PrunesOnDemandOnlyWhileNoOtherInstanceHoldsTheLease) {
    hookyard::test::TempDir dir;
    auto store = hookyard::test::make_fake_store();
    hookyard::config::Config cfg;
    cfg.data_dir = dir.path();
    cfg.retention.builds = std::chrono::seconds(-3600);  // everything is "old"
    cfg.retention.keep_per_rule = 0;
    const auto id = old_failed_build(*store);
    ASSERT_TRUE(*store->acquire_lease(PruneJob::k_lease, "other-instance", std::chrono::hours(1)));

    std::atomic<int> runs{0};
    PruneJob job(
        *store, cfg, [&](const RetentionResult&) { ++runs; }, "this-instance");
    job.start();
    job.run_now();
    ASSERT_TRUE(hookyard::test::wait_until([&] { return runs.load() == 1; }, std::chrono::seconds(10)));
    EXPECT_TRUE(store->get_build(id).ok()) << "the other instance holds the lease: this one must not prune";

    ASSERT_TRUE(store->release_lease(PruneJob::k_lease, "other-instance").ok());
    job.run_now();
    ASSERT_TRUE(hookyard::test::wait_until([&] { return runs.load() == 2; }, std::chrono::seconds(10)));
    EXPECT_FALSE(store->get_build(id).ok()) << "with the lease free, the run prunes";
    EXPECT_FALSE(*store->acquire_lease(PruneJob::k_lease, "other-instance", std::chrono::hours(1)))
        << "the pruner keeps the lease for the interval";
}
