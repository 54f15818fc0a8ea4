// The dispatcher against a real HTTP receiver on 127.0.0.1 and the in-memory store: delivery with the
// hookyard headers and signature, retries with backoff until the receiver answers 2xx, every attempt
// recorded, final 4xx answers and exhausted attempts given up.

#include "webhook/notify/dispatcher.hpp"

#include <gtest/gtest.h>

#include "tests/support/fake_store.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/support.hpp"
#include "util/signature.hpp"

namespace hookyard::notify {
namespace {

using namespace std::chrono_literals;
using storage::NotificationState;

class DispatcherTest : public ::testing::Test {
protected:
    DispatcherTest() {
        config::Subscriber team;
        team.name = "team";
        team.url = m_receiver.url("/hook");
        team.secret = "s3cret";
        m_config.subscribers.push_back(team);
        m_options.initial_backoff = 20ms;  // retries within the test, still in order
        m_options.poll_interval = 10ms;
        m_options.timeout = 5s;
        m_options.max_attempts = 3;
    }

    // Queues one build.succeeded notification for a build and returns the build's id.
    storage::BuildId queue_one() {
        m_store->set_event_planner([this](const storage::Build& b, std::string_view event) {
            return std::vector<storage::NewNotification>{
                {b.id, "team", std::string(event), m_receiver.url("/hook"), R"({"ok":true})"}};
        });
        auto builds = m_store->insert_builds({storage::NewBuild{}});
        EXPECT_TRUE(builds.ok());
        return builds->at(0).id;
    }

    // Polls the store until the build's only notification is no longer pending.
    storage::Notification settled(storage::BuildId id) {
        storage::Notification out;
        EXPECT_TRUE(test::wait_until(
            [&] {
                auto list = m_store->list_notifications(id);
                if (!list || list->size() != 1) return false;
                out = list->at(0);
                return out.state != NotificationState::pending;
            },
            10s));
        return out;
    }

    // Queues one notification, runs a dispatcher until it is delivered or given up, and returns it.
    storage::Notification dispatch_one() {
        const auto id = queue_one();
        Dispatcher dispatcher(*m_store, m_config, *m_client, m_options);
        dispatcher.start();
        return settled(id);
    }

    test::HttpTestServer m_receiver;
    config::Config m_config;
    DispatcherOptions m_options;
    std::unique_ptr<storage::Store> m_store = test::make_fake_store();
    std::unique_ptr<http::Client> m_client = std::move(http::make_client().value());
};

TEST_F(DispatcherTest, DeliversWithTheHookyardHeadersAndSignature) {
    const auto n = dispatch_one();
    EXPECT_EQ(n.state, NotificationState::delivered);
    ASSERT_EQ(m_receiver.count(), 1u);
    const auto req = m_receiver.requests().at(0);
    EXPECT_EQ(req.target, "/hook");
    EXPECT_EQ(req.header("x-hookyard-event"), "build.queued");
    EXPECT_EQ(req.header("x-hookyard-delivery"), n.delivery);
    EXPECT_EQ(req.header("x-hookyard-signature-256"), "sha256=" + util::hmac_sha256_hex("s3cret", req.body));
}

TEST_F(DispatcherTest, RetriesWithBackoffUntilTheReceiverAnswers2xx) {
    m_receiver.script({503, 500});
    const auto n = dispatch_one();
    EXPECT_EQ(n.state, NotificationState::delivered);
    ASSERT_EQ(n.history.size(), 3u);
    EXPECT_EQ(n.history[0].status, 503);
    EXPECT_EQ(n.history[1].status, 500);
    EXPECT_EQ(n.history[2].status, 200);
    EXPECT_GE(n.history[1].at - n.history[0].at, 16) << "waited at least the backoff (20 ms − 20 % jitter)";
    const auto requests = m_receiver.requests();
    EXPECT_EQ(requests.at(0).header("x-hookyard-delivery"), requests.at(2).header("x-hookyard-delivery"));
}

TEST_F(DispatcherTest, GivesUpAfterMaxAttempts) {
    m_receiver.set_default_status(500);
    const auto n = dispatch_one();
    EXPECT_EQ(n.state, NotificationState::failed);
    EXPECT_EQ(n.attempts, 3);
    EXPECT_EQ(n.last_error, "receiver answered HTTP 500");
}

TEST_F(DispatcherTest, AFinal4xxIsNotRetried) {
    m_receiver.set_default_status(404);
    const auto n = dispatch_one();
    EXPECT_EQ(n.state, NotificationState::failed);
    EXPECT_EQ(n.attempts, 1);
    EXPECT_EQ(m_receiver.count(), 1u);
}

TEST_F(DispatcherTest, ASubscriberGoneFromTheConfigFailsWithoutARequest) {
    m_config.subscribers.clear();
    const auto n = dispatch_one();
    EXPECT_EQ(n.state, NotificationState::failed);
    EXPECT_NE(n.last_error.find("no longer in the config"), std::string::npos);
    EXPECT_EQ(m_receiver.count(), 0u);
}

TEST_F(DispatcherTest, StopWaitsForTheRequestInFlight) {
    m_receiver.set_delay(300ms);
    const auto id = queue_one();
    {
        Dispatcher dispatcher(*m_store, m_config, *m_client, m_options);
        dispatcher.start();
        ASSERT_TRUE(m_receiver.wait_for(1, 5s));
        dispatcher.stop();
    }
    auto list = m_store->list_notifications(id);
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ(list->at(0).state, NotificationState::delivered) << "the in-flight request finished before stop";
}

}  // namespace
}  // namespace hookyard::notify
