// Build and notification leases of several instances (stores) sharing one PostgreSQL database (issue 14):
// a live instance never loses a build, a dead one's builds go back to the queue once its lease expires.

#include <gtest/gtest.h>

#include <atomic>

#include "storage/store.hpp"
#include "tests/support/fake_store.hpp"
#include "tests/unit/storage/store_contract.hpp"

using namespace hookyard::storage;
using namespace std::chrono_literals;
using hookyard::util::ErrorKind;

namespace {

class ClusterLease : public ::testing::Test {
protected:
    // The store of instance `id` holding claims for `lease`, on this test's database (the contract suite's
    // PostgreSQL factory: one database per directory).
    std::unique_ptr<Store> instance(const std::string& id, std::chrono::milliseconds lease) {
        for (const auto& factory : hookyard::test::store_factories()) {
            if (factory.name != "postgresql") continue;
            auto s = factory.open(m_dir.path());
            if (s) s->set_cluster(ClusterIdentity{id, lease});
            return s;
        }
        ADD_FAILURE() << "no PostgreSQL store factory";
        return nullptr;
    }
    // Queues one build and lets `store` claim it.
    Build claimed_by(Store& store) {
        auto queued = store.insert_builds({hookyard::test::web_build("refs/heads/main")});
        EXPECT_TRUE(queued.ok());
        auto claimed = store.claim_next_queued();
        EXPECT_TRUE(claimed.ok() && claimed->has_value());
        return claimed.ok() && claimed->has_value() ? **claimed : Build{};
    }

    hookyard::test::TempDir m_dir;
};

TEST_F(ClusterLease, AClaimRecordsItsInstanceAndAStartingInstanceLeavesALiveOnesBuildsAlone) {
    auto a = instance("builder-a", 60s), b = instance("builder-b", 60s);
    ASSERT_TRUE(a && b);
    const Build build = claimed_by(*a);
    EXPECT_EQ(build.instance, "builder-a");
    EXPECT_EQ(*b->requeue_running(3), 0) << "b started: a's build must stay a's";
    EXPECT_EQ(*b->requeue_expired(3), 0);
    EXPECT_EQ(b->get_build(build.id)->state, BuildState::running);
    // a restarts: its own builds go back to the queue at once, whatever their lease.
    EXPECT_EQ(*a->requeue_running(3), 1);
    auto back = a->get_build(build.id);
    EXPECT_EQ(back->state, BuildState::queued);
    EXPECT_EQ(back->attempts, 1);
}

TEST_F(ClusterLease, ADeadInstancesBuildGoesBackToTheQueueOnceItsLeaseExpires) {
    auto dead = instance("dead", 300ms), live = instance("live", 60s);
    ASSERT_TRUE(dead && live);
    const Build build = claimed_by(*dead);
    ASSERT_TRUE(dead->start_stage(build.id, "build").ok());
    int requeued = 0;
    ASSERT_TRUE(hookyard::test::wait_until(
        [&] {
            auto n = live->requeue_expired(3);
            requeued += n.ok() ? *n : 0;
            return requeued > 0;
        },
        20s));
    EXPECT_EQ(requeued, 1);
    auto back = live->get_build(build.id);
    EXPECT_EQ(back->state, BuildState::queued);
    EXPECT_EQ(back->attempts, 1);
    ASSERT_EQ(back->stages.size(), 1u);
    EXPECT_EQ(back->stages[0].state, BuildState::failed);
    auto again = live->claim_next_queued();
    ASSERT_TRUE(again.ok() && again->has_value());
    EXPECT_EQ((*again)->id, build.id);
    EXPECT_EQ((*again)->instance, "live");
}

TEST_F(ClusterLease, AnInstanceThatStalledPastItsLeaseNoLongerHoldsTheBuildAnotherTookOver) {
    auto stalled = instance("stalled", 300ms), other = instance("other", 60s);
    ASSERT_TRUE(stalled && other);
    const Build build = claimed_by(*stalled);
    EXPECT_TRUE(*stalled->hold_claim(build));
    ASSERT_TRUE(hookyard::test::wait_until(
        [&] {
            auto n = other->requeue_expired(3);
            return n.ok() && *n > 0;
        },
        20s));
    EXPECT_FALSE(*stalled->hold_claim(build)) << "re-queued: the claim is gone";
    auto taken = other->claim_next_queued();
    ASSERT_TRUE(taken.ok() && taken->has_value());
    ASSERT_EQ((*taken)->id, build.id);
    EXPECT_FALSE(*stalled->hold_claim(build));
    EXPECT_TRUE(*other->hold_claim(**taken));
    EXPECT_EQ(stalled->start_stage(build.id, "push").error().kind, ErrorKind::conflict);
    auto finished = stalled->finish_build(build.id, BuildState::succeeded, "sha256:stale", "");
    ASSERT_FALSE(finished.ok());
    EXPECT_NE(finished.error().message.find("lost its lease"), std::string::npos) << finished.error().message;
    ASSERT_TRUE(other->start_stage(build.id, "push").ok());
    ASSERT_TRUE(other->finish_build(build.id, BuildState::succeeded, "sha256:fresh", "").ok());
    EXPECT_EQ(other->get_build(build.id)->digest, "sha256:fresh");
}

TEST_F(ClusterLease, RenewalsKeepAShortLeaseAlive) {
    auto a = instance("renewer", 1500ms), b = instance("reaper", 60s);
    ASSERT_TRUE(a && b);
    const Build build = claimed_by(*a);
    // Three lease lengths pass while a renews: b never finds the lease expired.
    const auto until = std::chrono::steady_clock::now() + 4500ms;
    while (std::chrono::steady_clock::now() < until) {
        ASSERT_TRUE(a->renew_build_leases().ok());
        ASSERT_EQ(*b->requeue_expired(3), 0);
        std::this_thread::sleep_for(100ms);  // the heartbeat being tested: nothing to poll
    }
    EXPECT_EQ(b->get_build(build.id)->state, BuildState::running);
}

TEST_F(ClusterLease, AStartingInstanceReleasesOnlyItsOwnNotificationLeases) {
    auto a = instance("sender-a", 60s), b = instance("sender-b", 60s);
    ASSERT_TRUE(a && b);
    for (auto* s : {a.get(), b.get()}) {
        s->set_event_planner([](const Build& build, std::string_view event) {
            return std::vector<NewNotification>{{build.id, "team", std::string(event), "http://127.0.0.1:1/x", "{}"}};
        });
    }
    ASSERT_TRUE(a->insert_builds({hookyard::test::web_build("refs/heads/main")}).ok());
    auto leased = a->claim_due_notifications(10, 10, {}, 60s);
    ASSERT_TRUE(leased.ok());
    ASSERT_EQ(leased->size(), 1u);
    EXPECT_EQ(*b->release_notification_leases(), 0) << "a is delivering it";
    EXPECT_TRUE(b->claim_due_notifications(10, 10, {}, 60s)->empty());
    EXPECT_EQ(*a->release_notification_leases(), 1) << "a restarted: its own lease goes";
    EXPECT_EQ(b->claim_due_notifications(10, 10, {}, 60s)->size(), 1u);
}

TEST_F(ClusterLease, AnotherInstancesQueuedBuildAndCancelRequestWakeAListeningInstance) {
    auto a = instance("listener", 60s), b = instance("writer", 60s);
    ASSERT_TRUE(a && b);
    std::atomic<int> wakes{0};
    a->on_work([&] { ++wakes; });
    ASSERT_TRUE(hookyard::test::wait_until([&] { return wakes > 0; }, 20s)) << "a wake once listening";
    int seen = wakes;
    const Build build = claimed_by(*b);
    ASSERT_TRUE(hookyard::test::wait_until([&] { return wakes > seen; }, 20s)) << "b queued a build";
    seen = wakes;
    ASSERT_TRUE(b->cancel_build(build.id).ok());
    ASSERT_TRUE(hookyard::test::wait_until([&] { return wakes > seen; }, 20s)) << "b requested a cancel";
    a->on_work({});
    seen = wakes;
    ASSERT_TRUE(b->insert_builds({hookyard::test::web_build("refs/heads/other")}).ok());
    EXPECT_FALSE(hookyard::test::wait_until([&] { return wakes > seen; }, 1s)) << "no wake after on_work({})";
}

}  // namespace
