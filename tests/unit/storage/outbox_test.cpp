// The scheduler's and the dispatcher's side of the Store: claims that supersede and never run two builds
// of one image reference at once, crash recovery limits, and the outbox filled in the same transaction
// as the build change that caused it.

#include <gtest/gtest.h>

#include <map>

#include "tests/support/fake_store.hpp"
#include "tests/unit/storage/store_contract.hpp"

using namespace hookyard::storage;
using hookyard::test::accept_sync;
using hookyard::test::StoreOutbox;
using hookyard::util::ErrorKind;

namespace {

NewBuild build_of(const std::string& ref, std::size_t rule, std::vector<std::string> tags,
                  const std::string& image = "docker.io/acme/web") {
    NewBuild b;
    b.repository = "acme/web";
    b.ref = ref;
    b.commit = "0123456789abcdef0123456789abcdef01234567";
    b.rule = rule;
    b.image = image;
    b.tags = std::move(tags);
    return b;
}

// A planner that sends every event to one target, so tests can see what was queued and when.
EventPlanner recording_planner() {
    return [](const Build& b, std::string_view event) {
        return std::vector<NewNotification>{{b.id, "team", std::string(event), "http://127.0.0.1:1/x",
                                             "{\"state\":\"" + std::string(to_string(b.state)) + "\"}"}};
    };
}

std::vector<std::string> events_of(Store& store, BuildId id) {
    std::vector<std::string> out;
    auto list = store.list_notifications(id);
    EXPECT_TRUE(list.ok());
    for (const auto& n : *list) out.push_back(n.event);
    return out;
}

TEST_P(StoreOutbox, ClaimSupersedesOlderQueuedBuildsOfTheSameRuleAndRef) {
    auto store = open();
    auto burst =
        store->insert_builds({build_of("refs/heads/main", 0, {"latest"}), build_of("refs/heads/main", 0, {"latest"}),
                              build_of("refs/heads/main", 1, {"edge"}), build_of("refs/heads/main", 0, {"latest"})});
    ASSERT_TRUE(burst.ok());
    auto claimed = store->claim_next_queued();
    ASSERT_TRUE(claimed.ok());
    ASSERT_TRUE(claimed->has_value());
    EXPECT_EQ((*claimed)->id, (*burst)[2].id) << "rule 1's build is the oldest one left";
    for (int i : {0, 1}) {
        auto b = store->get_build((*burst)[i].id);
        EXPECT_EQ(b->state, BuildState::superseded);
        EXPECT_EQ(b->superseded_by, (*burst)[3].id);
        EXPECT_NE(b->error.find("superseded by build"), std::string::npos);
    }
    auto next = store->claim_next_queued();
    ASSERT_TRUE(next.ok() && next->has_value());
    EXPECT_EQ((*next)->id, (*burst)[3].id);
}

TEST_P(StoreOutbox, ClaimNeverRunsTwoBuildsPushingTheSameReference) {
    auto store = open();
    auto builds =
        store->insert_builds({build_of("refs/heads/main", 0, {"latest", "main"}),
                              build_of("refs/tags/v1", 1, {"v1", "latest"}), build_of("refs/heads/dev", 2, {"dev"})});
    ASSERT_TRUE(builds.ok());
    auto first = store->claim_next_queued();
    ASSERT_TRUE(first.ok() && first->has_value());
    EXPECT_EQ((*first)->id, (*builds)[0].id);
    auto second = store->claim_next_queued();
    ASSERT_TRUE(second.ok() && second->has_value());
    EXPECT_EQ((*second)->id, (*builds)[2].id) << "the tag build also pushes :latest, so it waits";
    auto none = store->claim_next_queued();
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    ASSERT_TRUE(store->finish_build((*builds)[0].id, BuildState::succeeded, "sha256:x", "").ok());
    auto third = store->claim_next_queued();
    ASSERT_TRUE(third.ok() && third->has_value());
    EXPECT_EQ((*third)->id, (*builds)[1].id);
}

TEST_P(StoreOutbox, EveryStateChangeQueuesItsEventInTheSameTransaction) {
    auto store = open();
    store->set_event_planner(recording_planner());
    auto accepted = accept_sync(*store, {"d-1", "push", "acme/web", 0}, {build_of("refs/heads/main", 0, {"latest"})});
    ASSERT_TRUE(accepted.ok());
    const BuildId id = accepted->build_ids.at(0);
    EXPECT_EQ(events_of(*store, id), std::vector<std::string>{"build.queued"});
    ASSERT_TRUE(store->claim_next_queued().ok());
    ASSERT_TRUE(store->finish_build(id, BuildState::failed, "", "build: RUN false").ok());
    EXPECT_EQ(events_of(*store, id), (std::vector<std::string>{"build.queued", "build.started", "build.failed"}));
    EXPECT_EQ(store->finish_build(id, BuildState::succeeded, "", "").error().kind, ErrorKind::conflict);
    EXPECT_EQ(events_of(*store, id).size(), 3u) << "a refused transition queues nothing";
    auto list = store->list_notifications(id);
    EXPECT_EQ(list->back().body, "{\"state\":\"failed\"}") << "the body is rendered from the build after the change";

    auto retried = store->retry_build(id);
    ASSERT_TRUE(retried.ok());
    ASSERT_TRUE(store->cancel_build(retried->id).ok());
    EXPECT_EQ(events_of(*store, retried->id), (std::vector<std::string>{"build.queued", "build.canceled"}));
}

TEST_P(StoreOutbox, RecoveryFailsBuildsInterruptedTooOften) {
    auto store = open();
    store->set_event_planner(recording_planner());
    auto builds = store->insert_builds({build_of("refs/heads/main", 0, {"latest"})});
    const BuildId id = (*builds)[0].id;
    for (int crash = 1; crash <= 2; ++crash) {
        ASSERT_TRUE(store->claim_next_queued()->has_value());
        auto n = store->requeue_running(2);
        ASSERT_TRUE(n.ok());
        EXPECT_EQ(*n, 1) << "crash " << crash;
        EXPECT_EQ(store->get_build(id)->attempts, crash);
    }
    ASSERT_TRUE(store->claim_next_queued()->has_value());
    auto n = store->requeue_running(2);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 0);
    auto b = store->get_build(id);
    EXPECT_EQ(b->state, BuildState::failed);
    EXPECT_NE(b->error.find("interrupted by 3 restarts"), std::string::npos) << b->error;
    EXPECT_EQ(events_of(*store, id).back(), "build.failed");
}

TEST_P(StoreOutbox, DueNotificationsAreLeasedAndAttemptsRecorded) {
    auto store = open();
    store->set_event_planner(recording_planner());
    auto builds = store->insert_builds({build_of("refs/heads/main", 0, {"latest"})});
    const BuildId id = (*builds)[0].id;
    auto due = store->claim_due_notifications(4, 10, {}, std::chrono::minutes(1));
    ASSERT_TRUE(due.ok());
    ASSERT_EQ(due->size(), 1u);
    EXPECT_EQ(due->at(0).delivery.size(), 36u) << "a UUID";
    EXPECT_TRUE(store->claim_due_notifications(4, 10, {}, std::chrono::minutes(1))->empty()) << "leased";

    const auto nid = due->at(0).id;
    ASSERT_TRUE(store
                    ->record_notification_attempt(nid, {0, now_ms(), 500, 12, "receiver answered HTTP 500"}, false,
                                                  now_ms() - 1)
                    .ok());
    auto again = store->claim_due_notifications(4, 10, {}, std::chrono::minutes(1));
    ASSERT_EQ(again->size(), 1u) << "due again after a failed attempt";
    EXPECT_EQ(again->at(0).attempts, 1);
    EXPECT_EQ(again->at(0).delivery, due->at(0).delivery) << "the same delivery id on every retry";
    ASSERT_TRUE(store->record_notification_attempt(nid, {0, now_ms(), 200, 3, ""}, true, 0).ok());
    EXPECT_EQ(store->record_notification_attempt(nid, {0, now_ms(), 200, 3, ""}, true, 0).error().kind,
              ErrorKind::conflict);

    auto list = store->list_notifications(id);
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ(list->at(0).state, NotificationState::delivered);
    ASSERT_EQ(list->at(0).history.size(), 2u);
    EXPECT_EQ(list->at(0).history[0].status, 500);
    EXPECT_EQ(list->at(0).history[1].status, 200);
    EXPECT_EQ(list->at(0).history[1].attempt, 2);
}

TEST_P(StoreOutbox, BusyTargetsAreSkippedAndPendingNotificationsSurviveReopen) {
    {
        auto store = open();
        store->set_event_planner(recording_planner());
        ASSERT_TRUE(store->insert_builds({build_of("refs/heads/main", 0, {"latest"})}).ok());
        EXPECT_TRUE(store->claim_due_notifications(4, 10, {"team"}, std::chrono::minutes(1))->empty());
    }
    auto store = open();
    auto due = store->claim_due_notifications(4, 10, {"other"}, std::chrono::minutes(1));
    ASSERT_TRUE(due.ok());
    EXPECT_EQ(due->size(), 1u);
}

TEST_P(StoreOutbox, CallbacksAndResolvedCommitsAreRecorded) {
    auto store = open();
    auto b = build_of("refs/heads/main", 0, {"latest"});
    b.commit.clear();
    auto builds = store->insert_builds({b});
    const BuildId id = (*builds)[0].id;
    ASSERT_TRUE(store->set_commit(id, "abc").ok());
    ASSERT_TRUE(store->set_commit(id, "def").ok());
    EXPECT_EQ(store->get_build(id)->commit, "abc") << "a recorded commit is never replaced";
    ASSERT_TRUE(store->add_callback(id, {now_ms(), "success", "tests passed", "ci", "https://ci/1"}).ok());
    EXPECT_EQ(store->add_callback(999, {now_ms(), "success", "", "", ""}).error().kind, ErrorKind::not_found);
    auto cbs = store->list_callbacks(id);
    ASSERT_EQ(cbs->size(), 1u);
    EXPECT_EQ(cbs->at(0).description, "tests passed");
}

}  // namespace

namespace {

TEST_P(StoreOutbox, ClaimsAreCappedPerTargetSoANoisyReceiverCannotStarveOthers) {
    auto store = open();
    store->set_event_planner([](const Build& b, std::string_view event) {
        std::vector<NewNotification> out;
        for (int i = 0; i < 5; ++i) out.push_back({b.id, "noisy", std::string(event), "http://127.0.0.1:1/n", "{}"});
        out.push_back({b.id, "quiet", std::string(event), "http://127.0.0.1:1/q", "{}"});
        return out;
    });
    ASSERT_TRUE(store->insert_builds({build_of("refs/heads/main", 0, {"latest"})}).ok());
    auto due = store->claim_due_notifications(2, 2, {}, std::chrono::minutes(1));
    ASSERT_TRUE(due.ok());
    std::map<std::string, int> per_target;
    for (const auto& n : *due) ++per_target[n.target];
    EXPECT_EQ(per_target["noisy"], 2);
    EXPECT_EQ(per_target["quiet"], 1);
    auto one_target = store->claim_due_notifications(1, 10, {}, std::chrono::minutes(1));
    ASSERT_TRUE(one_target.ok());
    ASSERT_EQ(one_target->size(), 3u) << "the rest of the noisy target's, and only one target";
    for (const auto& n : *one_target) EXPECT_EQ(n.target, "noisy");
}

}  // namespace

namespace {

TEST_P(StoreOutbox, AHugeBurstIsSupersededInBatchesAndOnlyTheNewestRuns) {
    auto store = open();
    std::vector<NewBuild> burst(600, build_of("refs/heads/main", 0, {"latest"}));
    auto inserted = store->insert_builds(burst);
    ASSERT_TRUE(inserted.ok());
    auto claimed = store->claim_next_queued();
    ASSERT_TRUE(claimed.ok() && claimed->has_value());
    EXPECT_EQ((*claimed)->id, inserted->back().id) << "never an old build, even before all are superseded";
    ASSERT_TRUE(store->finish_build((*claimed)->id, BuildState::succeeded, "sha256:x", "").ok());
    for (int i = 0; i < 3; ++i) {
        auto none = store->claim_next_queued();
        ASSERT_TRUE(none.ok());
        EXPECT_FALSE(none->has_value());
    }
    BuildFilter f;
    f.state = BuildState::superseded;
    f.limit = 500;
    auto superseded = store->list_builds(f);
    ASSERT_TRUE(superseded.ok());
    EXPECT_EQ(superseded->size(), 500u);
    f.before_id = superseded->back().id;
    EXPECT_EQ(store->list_builds(f)->size(), 99u) << "all 599 older builds superseded over a few claims";
}

}  // namespace
