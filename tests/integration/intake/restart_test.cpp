// The real `hookyard serve` binary: accepted deliveries and builds survive a graceful restart and a
// kill -9 right after the 202; a repeated delivery after a restart is still a duplicate.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/intake/serve_binary.hpp"

using namespace hookyard;

namespace {

using test::ServeBinary;

}  // namespace

TEST_F(ServeBinary, GracefulRestartKeepsDeliveriesAndBuilds) {
    nlohmann::json first_ids;
    {
        auto serve = start();
        auto r = test::post_github(m_port, test::k_secret, "push", "restart-1", test::k_sample_push);
        ASSERT_EQ(r.status, 202) << r.body;
        first_ids = nlohmann::json::parse(r.body)["builds"];
        ASSERT_EQ(test::post_github(m_port, test::k_secret, "push", "restart-2", test::k_sample_push).status, 202);
        serve->signal(SIGTERM);
        EXPECT_EQ(serve->wait(std::chrono::seconds(20)), 0) << serve->log();
        EXPECT_NE(serve->log().find("SIGTERM"), std::string::npos);
    }
    auto serve = start();
    EXPECT_EQ(builds().size(), 2u);
    auto again = test::post_github(m_port, test::k_secret, "push", "restart-1", test::k_sample_push);
    EXPECT_EQ(again.status, 200) << again.body;
    auto body = nlohmann::json::parse(again.body);
    EXPECT_EQ(body["duplicate"], true);
    EXPECT_EQ(body["builds"], first_ids);
    EXPECT_EQ(builds().size(), 2u);
}

TEST_F(ServeBinary, KillNineRightAfterThe202LosesNothing) {
    std::vector<nlohmann::json> accepted;
    {
        auto serve = start();
        for (int i = 0; i < 20; ++i) {
            auto r =
                test::post_github(m_port, test::k_secret, "push", "kill-" + std::to_string(i), test::k_sample_push);
            ASSERT_EQ(r.status, 202) << r.body;
            accepted.push_back(nlohmann::json::parse(r.body)["builds"][0]);
        }
        serve->signal(SIGKILL);
        serve->wait(std::chrono::seconds(10));
    }
    auto serve = start();
    auto stored = builds();
    ASSERT_EQ(stored.size(), accepted.size());
    for (std::size_t i = 0; i < accepted.size(); ++i) {
        auto one = test::http_request(m_port, "GET", "/api/v1/builds/" + accepted[i].dump(),
                                      {{"Authorization", std::string("Bearer ") + test::k_api_token}});
        EXPECT_EQ(one.status, 200) << one.body;
        // The scheduler may have run (and failed or superseded) it since; what matters is that it exists and
        // belongs to the delivery that got the 202.
        EXPECT_EQ(nlohmann::json::parse(one.body)["delivery"], "kill-" + std::to_string(i));
    }
    auto dup = test::post_github(m_port, test::k_secret, "push", "kill-7", test::k_sample_push);
    EXPECT_EQ(dup.status, 200);
    EXPECT_EQ(nlohmann::json::parse(dup.body)["builds"][0], accepted[7]);
}

TEST_F(ServeBinary, SigtermUnderLoadAnswersOnlyWhatItStored) {
    std::mutex mutex;
    std::vector<std::string> acknowledged;  // deliveries that got a 202
    std::atomic<bool> stop{false};
    std::atomic<int> sent{0};
    auto serve = start();
    std::vector<std::thread> senders;
    for (int t = 0; t < 4; ++t) {
        senders.emplace_back([&, t] {
            for (int i = 0; !stop; ++i) {
                const std::string id = "load-" + std::to_string(t) + "-" + std::to_string(i);
                auto r = test::post_github(m_port, test::k_secret, "push", id, test::k_sample_push);
                ++sent;
                if (r.status == 202) {
                    std::lock_guard lock(mutex);
                    acknowledged.push_back(id);
                } else if (r.status == 0) {
                    break;  // the server has stopped accepting
                }
            }
        });
    }
    ASSERT_TRUE(test::wait_until([&] { return sent.load() >= 100; }, std::chrono::seconds(30)));
    serve->signal(SIGTERM);
    EXPECT_EQ(serve->wait(std::chrono::seconds(20)), 0) << serve->log();
    EXPECT_EQ(serve->log().find("still unanswered"), std::string::npos) << "in-flight requests were cut off";
    stop = true;
    for (auto& th : senders) th.join();
    ASSERT_GE(acknowledged.size(), 100u);

    auto restarted = start();
    for (const auto& id : acknowledged) {
        auto r = test::post_github(m_port, test::k_secret, "push", id, test::k_sample_push);
        ASSERT_EQ(r.status, 200) << id << " was acknowledged with 202 but not stored: " << r.body;
        EXPECT_EQ(nlohmann::json::parse(r.body)["duplicate"], true);
    }
}
