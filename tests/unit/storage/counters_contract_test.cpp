// Store::stats (maintained counters) and Store leases against every Store.

#include <gtest/gtest.h>

#include "tests/support/fake_store.hpp"
#include "tests/unit/storage/store_contract.hpp"

using namespace hookyard::storage;
using hookyard::test::accept_sync;
using hookyard::test::StoreContract;
using hookyard::test::web_build;

namespace {

NewBuild build_on(const std::string& ref) { return web_build(ref, {ref.substr(ref.rfind('/') + 1)}); }

std::int64_t count(Store& store, BuildState s) {
    auto stats = store.stats();
    EXPECT_TRUE(stats.ok());
    return stats.ok() ? stats->builds_by_state[s] : -1;
}

}  // namespace

TEST_P(StoreContract, StatsFollowEveryStateChangeAndSurviveAReopen) {
    {
        auto store = open();
        ASSERT_TRUE(accept_sync(*store, Delivery{"d1", "push", "acme/web", now_ms()}, {build_on("refs/heads/a")}).ok());
        ASSERT_TRUE(accept_sync(*store, Delivery{"d1", "push", "acme/web", now_ms()}, {build_on("refs/heads/a")}).ok());
        auto more =
            store->insert_builds({build_on("refs/heads/b"), build_on("refs/heads/c"), build_on("refs/heads/c")});
        ASSERT_TRUE(more.ok());
        EXPECT_EQ(count(*store, BuildState::queued), 4);
        EXPECT_EQ(store->stats()->deliveries, 1) << "a duplicate delivery is not counted twice";

        auto claimed = store->claim_next_queued();  // also supersedes the older build on refs/heads/c
        ASSERT_TRUE(claimed.ok() && claimed->has_value());
        EXPECT_EQ(count(*store, BuildState::running), 1);
        EXPECT_EQ(count(*store, BuildState::superseded), 1);
        ASSERT_TRUE(store->finish_build((*claimed)->id, BuildState::failed, "", "boom").ok());
        ASSERT_TRUE(store->cancel_build(more->at(0).id).ok());
        EXPECT_EQ(count(*store, BuildState::running), 0);
        EXPECT_EQ(count(*store, BuildState::failed), 1);
        EXPECT_EQ(count(*store, BuildState::canceled), 1);
        EXPECT_EQ(count(*store, BuildState::queued), 1);

        PrunePolicy everything;
        everything.builds_before = TimeMs{1} << 60;
        everything.deliveries_before = TimeMs{1} << 60;
        everything.keep_per_rule = 0;
        ASSERT_TRUE(store->prune(everything).ok());
        EXPECT_EQ(count(*store, BuildState::failed), 0);
        EXPECT_EQ(count(*store, BuildState::canceled), 0);
        EXPECT_EQ(store->stats()->deliveries, 0);
    }
    auto reopened = open();
    EXPECT_EQ(count(*reopened, BuildState::queued), 1);
    EXPECT_EQ(count(*reopened, BuildState::superseded), 0) << "pruned with the rest";
}

TEST_P(StoreContract, ALeaseHasOneHolderUntilItIsReleasedOrExpires) {
    auto a = open();
    auto b = open();  // a second instance on the same database
    using std::chrono::milliseconds;
    EXPECT_TRUE(*a->acquire_lease("prune", "host-a", std::chrono::hours(1)));
    EXPECT_FALSE(*b->acquire_lease("prune", "host-b", std::chrono::hours(1)));
    EXPECT_TRUE(*a->acquire_lease("prune", "host-a", std::chrono::hours(1))) << "the holder renews";
    EXPECT_TRUE(*b->acquire_lease("other", "host-b", std::chrono::hours(1))) << "leases are per name";
    ASSERT_TRUE(b->release_lease("prune", "host-b").ok());
    EXPECT_FALSE(*b->acquire_lease("prune", "host-b", std::chrono::hours(1))) << "only the holder releases";
    ASSERT_TRUE(a->release_lease("prune", "host-a").ok());
    EXPECT_TRUE(*b->acquire_lease("prune", "host-b", milliseconds(1)));
    EXPECT_TRUE(hookyard::test::wait_until([&] { return *a->acquire_lease("prune", "host-a", std::chrono::hours(1)); },
                                           std::chrono::seconds(5)))
        << "an expired lease (a crashed holder) is taken over";
}
