// The Store contract: builds, deliveries, stages, logs. Runs against every store in store_factories().

#include "tests/unit/storage/store_contract.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/support/fake_store.hpp"

using namespace hookyard::storage;
using hookyard::test::accept_sync;
using hookyard::test::StoreContract;
using hookyard::util::ErrorKind;

namespace {

NewBuild sample_build(const std::string& ref = "refs/heads/main", std::size_t rule = 0) {
    NewBuild b;
    b.repository = "acme/web";
    b.ref = ref;
    b.commit = "0123456789abcdef0123456789abcdef01234567";
    b.rule = rule;
    b.image = "docker.io/acme/web";
    b.tags = {"latest", "main"};
    b.build_args = {{"CHANNEL", "stable"}};
    b.source_type = "branch";
    b.source_name = "main";
    return b;
}

}  // namespace

TEST_P(StoreContract, AcceptStoresDeliveryAndQueuedBuilds) {
    auto store = open();
    auto r = accept_sync(*store, {"d-1", "push", "acme/web", 0}, {sample_build(), sample_build()});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE(r->duplicate);
    ASSERT_EQ(r->build_ids.size(), 2u);
    auto b = store->get_build(r->build_ids[0]);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->state, BuildState::queued);
    EXPECT_EQ(b->tags, (std::vector<std::string>{"latest", "main"}));
    EXPECT_EQ(b->build_args.at("CHANNEL"), "stable");
    EXPECT_EQ(b->delivery, "d-1");
    EXPECT_GT(b->created_at, 0);
}

TEST_P(StoreContract, RepeatedDeliveryIsADuplicateWithTheSameBuilds) {
    auto store = open();
    auto first = accept_sync(*store, {"d-1", "push", "acme/web", 0}, {sample_build()});
    auto again = accept_sync(*store, {"d-1", "push", "acme/web", 0}, {sample_build(), sample_build()});
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->build_ids, first->build_ids);
    EXPECT_EQ(store->list_builds({})->size(), 1u);
}

TEST_P(StoreContract, ConcurrentAcceptsAreAllDurableAndDistinct) {
    auto store = open();
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 25; ++i) {
                auto r =
                    accept_sync(*store, {"d-" + std::to_string(t) + "-" + std::to_string(i), "push", "acme/web", 0},
                                {sample_build()});
                if (r.ok() && !r->duplicate && r->build_ids.size() == 1) ++ok;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok.load(), 200);
    store.reset();
    auto reopened = open();
    EXPECT_EQ(reopened->stats()->deliveries, 200);
    EXPECT_EQ(reopened->stats()->builds_by_state[BuildState::queued], 200);
}

TEST_P(StoreContract, DataSurvivesReopenAndDuplicatesStillDetected) {
    {
        auto store = open();
        ASSERT_TRUE(accept_sync(*store, {"d-9", "push", "acme/web", 0}, {sample_build()}).ok());
    }
    auto store = open();
    auto again = accept_sync(*store, {"d-9", "push", "acme/web", 0}, {sample_build()});
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->duplicate);
}

TEST_P(StoreContract, ClaimRunsStagesAndFinishesOnce) {
    auto store = open();
    auto ids = store->insert_builds({sample_build()});
    ASSERT_TRUE(ids.ok());
    auto claimed = store->claim_next_queued();
    ASSERT_TRUE(claimed.ok() && claimed->has_value());
    EXPECT_EQ((*claimed)->state, BuildState::running);
    EXPECT_FALSE(store->claim_next_queued()->has_value());

    const auto id = (*claimed)->id;
    ASSERT_TRUE(store->start_stage(id, "checkout").ok());
    ASSERT_TRUE(store->finish_stage(id, "checkout", BuildState::succeeded, "").ok());
    ASSERT_TRUE(store->start_stage(id, "build").ok());
    ASSERT_TRUE(store->finish_stage(id, "build", BuildState::failed, "exit 1").ok());
    EXPECT_EQ(store->finish_stage(id, "build", BuildState::failed, "").error().kind, ErrorKind::not_found);
    ASSERT_TRUE(store->finish_build(id, BuildState::failed, "", "build failed").ok());

    auto again = store->finish_build(id, BuildState::succeeded, "sha256:x", "");
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().kind, ErrorKind::conflict);
    auto b = store->get_build(id);
    EXPECT_EQ(b->state, BuildState::failed);
    ASSERT_EQ(b->stages.size(), 2u);
    EXPECT_EQ(b->stages[0].name, "checkout");
    EXPECT_EQ(b->stages[1].error, "exit 1");
    EXPECT_GT(b->finished_at, 0);
    EXPECT_EQ(store->start_stage(id, "push").error().kind, ErrorKind::conflict);
}

TEST_P(StoreContract, RequeueRunningAfterCrashCountsAttempts) {
    auto store = open();
    ASSERT_TRUE(store->insert_builds({sample_build()}).ok());
    auto claimed = store->claim_next_queued();
    ASSERT_TRUE(store->start_stage((*claimed)->id, "checkout").ok());
    EXPECT_EQ(*store->requeue_running(), 1);
    EXPECT_EQ(*store->requeue_running(), 0);
    auto b = store->get_build((*claimed)->id);
    EXPECT_EQ(b->state, BuildState::queued);
    EXPECT_EQ(b->attempts, 1);
    EXPECT_EQ(b->stages[0].state, BuildState::failed);
    EXPECT_EQ(b->stages[0].error, "interrupted by restart");
}

TEST_P(StoreContract, CancelQueuedEndsItCancelRunningOnlyRequests) {
    auto store = open();
    auto builds = store->insert_builds({sample_build(), sample_build("refs/heads/dev")});
    auto running = store->claim_next_queued();
    auto c1 = store->cancel_build((*running)->id);
    ASSERT_TRUE(c1.ok());
    EXPECT_EQ(c1->state, BuildState::running);
    EXPECT_TRUE(c1->cancel_requested);
    auto c2 = store->cancel_build(builds->at(1).id);
    EXPECT_EQ(c2->state, BuildState::canceled);
    EXPECT_EQ(store->cancel_build(builds->at(1).id).error().kind, ErrorKind::conflict);
    EXPECT_EQ(store->cancel_build(12345).error().kind, ErrorKind::not_found);
}

TEST_P(StoreContract, RetryQueuesACopyOfAFinishedBuild) {
    auto store = open();
    NewBuild pushed = sample_build();
    pushed.trigger_reason = "push of refs/heads/main (aaaaaaa) by alice";
    auto builds = store->insert_builds({pushed});
    EXPECT_EQ(builds->at(0).trigger_type, "push");
    EXPECT_EQ(store->get_build(builds->at(0).id)->trigger_reason, "push of refs/heads/main (aaaaaaa) by alice");
    const auto id = builds->at(0).id;
    EXPECT_EQ(store->retry_build(id).error().kind, ErrorKind::conflict);
    ASSERT_TRUE(store->cancel_build(id).ok());
    auto r = store->retry_build(id);
    ASSERT_TRUE(r.ok());
    EXPECT_NE(r->id, id);
    EXPECT_EQ(r->retry_of, id);
    EXPECT_EQ(r->state, BuildState::queued);
    EXPECT_EQ(r->commit, builds->at(0).commit);
    EXPECT_EQ(r->trigger_type, "retry");
    EXPECT_EQ(r->trigger_reason, "retry of #" + std::to_string(id));
}

TEST_P(StoreContract, LogIsReadableFromAnOffsetWhileItGrows) {
    auto store = open();
    auto builds = store->insert_builds({sample_build()});
    const auto id = builds->at(0).id;
    ASSERT_TRUE(store->append_log(id, "step 1\n").ok());
    auto c1 = store->read_log(id, 0, 1 << 20);
    EXPECT_EQ(c1->data, "step 1\n");
    EXPECT_FALSE(c1->complete);
    ASSERT_TRUE(store->append_log(id, "step 2\nstep 3\n").ok());
    auto c2 = store->read_log(id, c1->next_offset, 1 << 20);
    EXPECT_EQ(c2->data, "step 2\nstep 3\n");
    auto partial = store->read_log(id, 3, 6);
    EXPECT_EQ(partial->data, "p 1\nst");
    EXPECT_EQ(partial->next_offset, 9);
    ASSERT_TRUE(store->cancel_build(id).ok());
    EXPECT_TRUE(store->read_log(id, c2->next_offset, 10)->complete);
    EXPECT_EQ(store->append_log(999, "x").error().kind, ErrorKind::not_found);
}

TEST_P(StoreContract, ListFiltersByRepositoryAndStateNewestFirst) {
    auto store = open();
    auto other = sample_build();
    other.repository = "acme/api";
    auto builds = store->insert_builds({sample_build(), other, sample_build("refs/heads/dev")});
    ASSERT_TRUE(store->cancel_build(builds->at(0).id).ok());
    BuildFilter f;
    f.repository = "acme/web";
    auto l = store->list_builds(f);
    ASSERT_EQ(l->size(), 2u);
    EXPECT_GT(l->at(0).id, l->at(1).id);
    f.state = BuildState::queued;
    EXPECT_EQ(store->list_builds(f)->size(), 1u);
    BuildFilter one;
    one.limit = 1;
    EXPECT_EQ(store->list_builds(one)->size(), 1u);
}

TEST_P(StoreContract, ListFiltersByRuleAndExactRefNewestFirst) {
    auto store = open();
    auto builds =
        store->insert_builds({sample_build("refs/tags/v1", 1), sample_build(), sample_build("refs/heads/dev")});
    ASSERT_TRUE(builds.ok());
    BuildFilter f;
    f.repository = "acme/web";
    f.rule = 1;
    f.limit = 1;
    auto l = store->list_builds(f);
    ASSERT_EQ(l->size(), 1u);
    EXPECT_EQ(l->at(0).id, builds->at(0).id);
    f.rule = 0;
    EXPECT_EQ(store->list_builds(f)->at(0).id, builds->at(2).id);
    f.rule = 2;
    EXPECT_TRUE(store->list_builds(f)->empty());
    BuildFilter by_ref;
    by_ref.ref = "refs/heads/dev";
    ASSERT_EQ(store->list_builds(by_ref)->size(), 1u);
    EXPECT_EQ(store->list_builds(by_ref)->at(0).id, builds->at(2).id);
    by_ref.ref = "dev";
    EXPECT_TRUE(store->list_builds(by_ref)->empty()) << "an exact ref, not a short name";
}

TEST_P(StoreContract, OnlyConsecutiveCrashesWhileRunningUseUpTheRecoveries) {
    auto store = open();
    ASSERT_TRUE(store->insert_builds({sample_build()}).ok());
    const BuildId id = (*store->claim_next_queued())->id;
    EXPECT_EQ(*store->requeue_running(2), 1);
    ASSERT_TRUE(store->claim(id).ok());
    EXPECT_EQ(*store->requeue_running(2), 1);
    EXPECT_EQ(store->get_build(id)->crash_streak, 2);
    // A crash that finds it queued, not running: its streak starts again.
    EXPECT_EQ(*store->requeue_running(2), 0);
    EXPECT_EQ(store->get_build(id)->crash_streak, 0);
    for (int crash = 1; crash <= 2; ++crash) {
        ASSERT_TRUE(store->claim(id).ok());
        EXPECT_EQ(*store->requeue_running(2), 1) << "crash " << crash;
    }
    ASSERT_TRUE(store->claim(id).ok());
    EXPECT_EQ(*store->requeue_running(2), 0);
    auto b = store->get_build(id);
    EXPECT_EQ(b->state, BuildState::failed);
    EXPECT_EQ(b->attempts, 4);
    EXPECT_NE(b->error.find("interrupted by 3 restarts of hookyard in a row"), std::string::npos) << b->error;
}

TEST_P(StoreContract, AnInterruptedBuildIsClaimedAfterTheOthers) {
    auto store = open();
    auto first = sample_build("refs/heads/a");
    auto second = sample_build("refs/heads/b");
    first.tags = {"a"};
    second.tags = {"b"};
    ASSERT_TRUE(store->insert_builds({first, second}).ok());
    const BuildId interrupted = (*store->claim_next_queued())->id;
    ASSERT_EQ(*store->requeue_running(), 1);
    auto next = store->claim_next_queued();
    ASSERT_TRUE(next.ok() && next->has_value());
    EXPECT_NE((*next)->id, interrupted);
    EXPECT_EQ((*store->claim_next_queued())->id, interrupted);
}

TEST_P(StoreContract, PushedImagesAreRecordedPerBuildTheLatestWinning) {
    auto store = open();
    const BuildId id = store->insert_builds({sample_build()})->at(0).id;
    ASSERT_TRUE(store->record_pushed(id, "docker.io/acme/web:latest", "sha256:1").ok());
    ASSERT_TRUE(store->record_pushed(id, "docker.io/acme/web:latest", "sha256:2").ok());
    ASSERT_TRUE(store->record_pushed(id, "docker.io/acme/web:main", "sha256:2").ok());
    EXPECT_EQ(store->get_build(id)->pushed,
              (std::map<std::string, std::string>{{"docker.io/acme/web:latest", "sha256:2"},
                                                  {"docker.io/acme/web:main", "sha256:2"}}));
    EXPECT_EQ(store->record_pushed(id + 100, "x:y", "sha256:3").error().kind, ErrorKind::not_found);
}
