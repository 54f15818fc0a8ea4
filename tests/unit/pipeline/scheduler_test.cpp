// The scheduler against a real SQLite store, with a runner the test controls (the stages themselves are
// covered by the end-to-end tests): concurrency bound, cancel of a running build, shutdown that leaves
// work for recovery, and each build finished exactly once.

#include "pipeline/scheduler.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>

#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

using namespace std::chrono_literals;
using storage::BuildState;

storage::NewBuild build_of(const std::string& ref) {
    storage::NewBuild b;
    b.repository = "acme/web";
    b.ref = ref;
    b.image = "docker.io/acme/web";
    b.tags = {ref.substr(ref.rfind('/') + 1)};
    return b;
}

// Inserts one queued build of `ref`; returns its id.
storage::BuildId insert_one(storage::Store& store, const std::string& ref) {
    return store.insert_builds({build_of(ref)})->at(0).id;
}

// Holds every build until released (or canceled); counts how many run at once.
class GateRunner : public BuildRunner {
public:
    RunOutcome run(const storage::Build& build, CancelToken& token) override {
        const int now = ++m_running;
        int seen = m_max.load();
        while (now > seen && !m_max.compare_exchange_weak(seen, now)) {
        }
        {
            std::lock_guard lock(m_mutex);
            m_started.insert(build.id);
        }
        test::wait_until([&] { return m_release.load() || token.canceled(); }, 60s);
        --m_running;
        RunOutcome out;
        out.state = token.canceled() ? BuildState::canceled : BuildState::succeeded;
        out.digest = token.canceled() ? "" : "sha256:" + std::string(64, '0');
        return out;
    }
    std::size_t started() {
        std::lock_guard lock(m_mutex);
        return m_started.size();
    }
    std::atomic<int> m_running{0};
    std::atomic<int> m_max{0};
    std::atomic<bool> m_release{false};
    std::mutex m_mutex;
    std::set<storage::BuildId> m_started;
};

class SchedulerTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto s = storage::make_sqlite_store(m_dir / "h.db");
        ASSERT_TRUE(s.ok());
        m_store = std::move(*s);
        m_events = make_plain_build_events(*m_store);
    }
    SchedulerOptions fast(int concurrency) {
        SchedulerOptions o;
        o.concurrency = concurrency;
        o.poll_interval = 50ms;
        o.cancel_poll = 20ms;
        return o;
    }
    BuildState state_of(storage::BuildId id) { return m_store->get_build(id)->state; }

    test::TempDir m_dir;
    std::unique_ptr<storage::Store> m_store;
    std::unique_ptr<BuildEvents> m_events;
    GateRunner m_runner;
};

TEST_F(SchedulerTest, RunsAtMostConcurrencyBuildsAndFinishesEachOnce) {
    auto builds = m_store->insert_builds({build_of("refs/heads/a"), build_of("refs/heads/b"), build_of("refs/heads/c"),
                                          build_of("refs/heads/d"), build_of("refs/heads/e")});
    ASSERT_TRUE(builds.ok());
    Scheduler scheduler(*m_store, m_runner, *m_events, fast(2));
    scheduler.start();
    ASSERT_TRUE(test::wait_until([&] { return m_runner.started() == 2; }, 10s));
    EXPECT_EQ(scheduler.running(), 2);
    m_runner.m_release = true;
    ASSERT_TRUE(test::wait_until(
        [&] {
            for (const auto& b : *builds) {
                if (state_of(b.id) != BuildState::succeeded) return false;
            }
            return true;
        },
        20s));
    EXPECT_EQ(m_runner.m_max.load(), 2);
    EXPECT_EQ(m_runner.started(), 5u);
    for (const auto& b : *builds) EXPECT_EQ(m_store->get_build(b.id)->digest, "sha256:" + std::string(64, '0'));
}

TEST_F(SchedulerTest, ApiCancelStopsARunningBuild) {
    const auto id = insert_one(*m_store, "refs/heads/main");
    Scheduler scheduler(*m_store, m_runner, *m_events, fast(1));
    scheduler.start();
    ASSERT_TRUE(test::wait_until([&] { return m_runner.started() == 1; }, 10s));
    ASSERT_TRUE(m_store->cancel_build(id).ok());
    ASSERT_TRUE(test::wait_until([&] { return state_of(id) == BuildState::canceled; }, 10s));
    EXPECT_EQ(m_store->get_build(id)->error, "canceled");
}

TEST_F(SchedulerTest, ShutdownLeavesRunningBuildsForRecovery) {
    const auto id = insert_one(*m_store, "refs/heads/main");
    {
        Scheduler scheduler(*m_store, m_runner, *m_events, fast(1));
        scheduler.start();
        ASSERT_TRUE(test::wait_until([&] { return m_runner.started() == 1; }, 10s));
        scheduler.stop();
    }
    EXPECT_EQ(state_of(id), BuildState::running) << "not finished: the next start re-queues it";
    auto requeued = m_store->requeue_running();
    ASSERT_TRUE(requeued.ok());
    EXPECT_EQ(*requeued, 1);
    m_runner.m_release = true;
    Scheduler again(*m_store, m_runner, *m_events, fast(1));
    again.start();
    ASSERT_TRUE(test::wait_until([&] { return state_of(id) == BuildState::succeeded; }, 10s));
    EXPECT_EQ(m_store->get_build(id)->attempts, 1);
}

// Throws from the first finish (as a planner choking on a build's output did), then records normally.
class ThrowOnceEvents : public BuildEvents {
public:
    explicit ThrowOnceEvents(storage::Store& store) : m_plain(make_plain_build_events(store)) {}
    void started(const storage::Build&) override { throw std::runtime_error("start event broke"); }
    util::Status finish(const storage::Build& build, const RunOutcome& outcome) override {
        if (!m_thrown.exchange(true)) throw std::runtime_error("type_error.316 invalid UTF-8 byte");
        return m_plain->finish(build, outcome);
    }
    std::unique_ptr<BuildEvents> m_plain;
    std::atomic<bool> m_thrown{false};
};

TEST_F(SchedulerTest, AnExceptionWhileFinishingFailsTheBuildInsteadOfTheProcess) {
    const auto id = insert_one(*m_store, "refs/heads/main");
    ThrowOnceEvents events(*m_store);
    m_runner.m_release = true;
    Scheduler scheduler(*m_store, m_runner, events, fast(1));
    scheduler.start();
    ASSERT_TRUE(test::wait_until([&] { return state_of(id) == BuildState::failed; }, 10s));
    EXPECT_NE(m_store->get_build(id)->error.find("type_error.316"), std::string::npos);
}

TEST(CancelTokenTest, RunsCallbacksOnceAndAtOnceWhenAlreadyCanceled) {
    CancelToken token;
    int calls = 0;
    const int id = token.on_cancel([&] { ++calls; });
    token.on_cancel([&] { ++calls; });
    token.remove(id);
    token.cancel(CancelToken::Reason::canceled);
    token.cancel(CancelToken::Reason::shutdown);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(token.reason(), CancelToken::Reason::canceled);
    token.on_cancel([&] { ++calls; });
    EXPECT_EQ(calls, 2);
}

TEST_F(SchedulerTest, WhileHeldQueuedBuildsStayQueuedAndRunOnceReleased) {
    auto builds = m_store->insert_builds({build_of("refs/heads/main")});
    const auto id = (*builds)[0].id;
    std::atomic<bool> low{true};
    std::atomic<int> checks{0};
    auto options = fast(1);
    options.hold = [&] {
        ++checks;
        return low ? std::vector<std::string>{"data dir: 1.0 GiB free"} : std::vector<std::string>{};
    };
    m_runner.m_release = true;
    Scheduler scheduler(*m_store, m_runner, *m_events, options);
    scheduler.start();
    ASSERT_TRUE(test::wait_until([&] { return checks.load() >= 5; }, 10s)) << "several claim rounds";
    EXPECT_EQ(state_of(id), BuildState::queued);
    EXPECT_EQ(m_runner.started(), 0u);
    low = false;
    scheduler.wake();
    ASSERT_TRUE(test::wait_until([&] { return state_of(id) == BuildState::succeeded; }, 10s));
}

}  // namespace
}  // namespace hookyard::pipeline
