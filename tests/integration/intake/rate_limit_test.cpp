// server.rate_limit against the real `hookyard serve` binary: the token routes (trigger, Docker Hub callback)
// answer 429 with Retry-After past the rate, /hooks/github never does, and the service keeps serving.

#include <gtest/gtest.h>

#include <string>

#include "tests/integration/intake/serve_binary.hpp"

using namespace hookyard;

namespace {

class RateLimit : public test::ServeBinary {
protected:
    void SetUp() override {
        write_config("    trigger_token: rate-limit-trigger-token\n");
        std::string yaml = test::read_file(m_dir / "hookyard.yaml");
        const std::string api = R"(api_token: "api-token-for-tests" })";
        yaml.replace(yaml.find(api), api.size(), R"(api_token: "api-token-for-tests", rate_limit: 2 })");
        test::write_file(m_dir / "hookyard.yaml", yaml);
        m_serve = start();
    }

    std::unique_ptr<test::Process> m_serve;
};

}  // namespace

TEST_F(RateLimit, TokenRoutesAnswer429WithRetryAfterAndGithubDeliveriesNever) {
    // Guessing trigger tokens: two tries, then 429 (the limit counts before the token is looked at).
    std::vector<int> statuses;
    test::Reply limited;
    for (int i = 0; i < 4; ++i) {
        limited = test::http_request(m_port, "POST", "/api/v1/trigger/guess-" + std::to_string(i),
                                     {{"Content-Type", "application/json"}}, "{}");
        statuses.push_back(limited.status);
    }
    EXPECT_EQ(statuses[0], 404);
    EXPECT_EQ(statuses[3], 429) << limited.body;
    EXPECT_EQ(limited.headers["retry-after"], "1");
    EXPECT_NE(limited.body.find("server.rate_limit"), std::string::npos) << limited.body;
    // The callback route shares the client's bucket.
    EXPECT_EQ(test::http_request(m_port, "POST", "/api/v1/callbacks/1/x", {}, "{}").status, 429);

    // GitHub deliveries are never limited: GitHub does not retry a 429, it marks the hook failing.
    for (int i = 0; i < 10; ++i) {
        auto r = test::post_github(m_port, test::k_secret, "push", "rate-" + std::to_string(i), test::k_sample_push);
        EXPECT_EQ(r.status, 202) << r.body;
    }
    EXPECT_EQ(test::http_request(m_port, "GET", "/healthz").status, 200);
    // Once a token refilled, the trigger answers again.
    ASSERT_TRUE(test::wait_until(
        [&] {
            return test::http_request(m_port, "POST", "/api/v1/trigger/rate-limit-trigger-token",
                                      {{"Content-Type", "application/json"}}, "{}")
                       .status == 202;
        },
        std::chrono::seconds(10)))
        << m_serve->log();
    ASSERT_TRUE(m_serve->running()) << m_serve->log();
}
