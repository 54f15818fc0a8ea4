// Retention (Store::prune) against every Store: what goes, what always stays, dry runs change nothing.

#include <gtest/gtest.h>

#include "tests/support/fake_store.hpp"
#include "tests/unit/storage/store_contract.hpp"

using namespace hookyard::storage;
using hookyard::test::accept_sync;
using hookyard::test::StoreContract;
using hookyard::test::web_build;

namespace {

// Inserts, claims and finishes one build; its id.
BuildId finished(Store& store, const std::string& ref, BuildState state) {
    auto b = store.insert_builds({web_build(ref)});
    EXPECT_TRUE(b.ok());
    const auto id = b->at(0).id;
    EXPECT_TRUE(store.claim(id).ok());
    EXPECT_TRUE(store.finish_build(id, state, "", "").ok());
    return id;
}

TimeMs far_future() { return TimeMs{1} << 60; }

}  // namespace

TEST_P(StoreContract, PruneKeepsTheNewestPerRuleAndTheLastSucceededPerRef) {
    auto store = open();
    const auto ok_old = finished(*store, "refs/heads/main", BuildState::succeeded);
    const auto failed_old = finished(*store, "refs/heads/main", BuildState::failed);
    const auto ok_last = finished(*store, "refs/heads/main", BuildState::succeeded);
    const auto failed_a = finished(*store, "refs/heads/main", BuildState::failed);
    const auto failed_b = finished(*store, "refs/heads/main", BuildState::failed);
    ASSERT_TRUE(store->append_log(ok_old, "old log\n").ok());
    ASSERT_TRUE(store->add_callback(failed_old, BuildCallback{}).ok());
    // A pushed image (crash safety) points at the build too: pruning must remove it first.
    ASSERT_TRUE(store->record_pushed(ok_old, "reg.example/app:latest", "sha256:aa").ok());

    PrunePolicy policy;
    policy.builds_before = far_future();
    policy.keep_per_rule = 2;
    policy.dry_run = true;
    auto dry = store->prune(policy);
    ASSERT_TRUE(dry.ok()) << dry.error().message;
    EXPECT_EQ(dry->builds, 2);
    EXPECT_TRUE(store->get_build(ok_old).ok());

    policy.dry_run = false;
    policy.batch = 1;  // several write transactions
    auto done = store->prune(policy);
    ASSERT_TRUE(done.ok()) << done.error().message;
    EXPECT_EQ(done->builds, 2);
    EXPECT_GE(done->rows, 4);  // two builds, a log, a callback
    EXPECT_FALSE(store->get_build(ok_old).ok());
    EXPECT_FALSE(store->get_build(failed_old).ok());
    EXPECT_FALSE(store->read_log(ok_old, 0, 100).ok());
    for (auto id : {ok_last, failed_a, failed_b}) EXPECT_TRUE(store->get_build(id).ok()) << id;
    EXPECT_EQ(store->prune(policy)->builds, 0);
}

TEST_P(StoreContract, PruneLeavesYoungAndUnfinishedBuildsAndDropsOldDeliveries) {
    auto store = open();
    const auto old = finished(*store, "refs/heads/dev", BuildState::failed);
    auto queued = store->insert_builds({web_build("refs/heads/main")});
    ASSERT_TRUE(queued.ok());
    ASSERT_TRUE(accept_sync(*store, {"d-old", "push", "acme/web", 1}, {}).ok());
    ASSERT_TRUE(accept_sync(*store, {"d-new", "push", "acme/web", far_future() - 1}, {}).ok());

    PrunePolicy policy;
    policy.keep_per_rule = 0;
    policy.batch = 0;          // the default batch then, not a loop that never ends
    policy.builds_before = 0;  // nothing is old enough
    policy.deliveries_before = far_future() - 10;
    auto r = store->prune(policy);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->builds, 0);
    EXPECT_EQ(r->deliveries, 1);
    EXPECT_TRUE(store->get_build(old).ok());

    policy.builds_before = far_future();
    r = store->prune(policy);
    EXPECT_EQ(r->builds, 1);
    EXPECT_FALSE(store->get_build(old).ok());
    EXPECT_TRUE(store->get_build(queued->at(0).id).ok());
    // The newer delivery is still known: the same id is a duplicate.
    auto again = accept_sync(*store, {"d-new", "push", "acme/web", 0}, {});
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->duplicate);
}
