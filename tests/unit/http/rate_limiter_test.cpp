// The token routes' rate limiter: a bucket per client address that refills at the configured rate, IPv6
// counted per /64, a table that never grows past its bound, and the 429 with Retry-After it answers.

#include "http/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace hookyard::http {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, AllowsABurstOfTheRateThenAsksToWaitUntilATokenRefills) {
    RateLimiter limiter(2);
    const auto t0 = RateLimiter::Clock::time_point{} + 1h;
    EXPECT_FALSE(limiter.take("10.0.0.1", t0));
    EXPECT_FALSE(limiter.take("10.0.0.1", t0));
    EXPECT_EQ(limiter.take("10.0.0.1", t0), 1) << "a third request in the same instant waits";
    EXPECT_FALSE(limiter.take("10.0.0.2", t0)) << "another client has its own bucket";
    EXPECT_FALSE(limiter.take("10.0.0.1", t0 + 500ms)) << "half a second refills one token at 2/s";
    EXPECT_TRUE(limiter.take("10.0.0.1", t0 + 500ms));

    RateLimiter slow(0.2);  // one request every five seconds
    EXPECT_FALSE(slow.take("10.0.0.1", t0));
    EXPECT_EQ(slow.take("10.0.0.1", t0), 5);
}

TEST(RateLimiter, ZeroMeansNoLimit) {
    RateLimiter limiter(0);
    for (int i = 0; i < 1000; ++i) ASSERT_FALSE(limiter.take("10.0.0.1"));
    EXPECT_EQ(limiter.clients(), 0u);
}

TEST(RateLimiter, CountsIpv6PerSlash64) {
    EXPECT_EQ(RateLimiter::client_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
    EXPECT_EQ(RateLimiter::client_key("2001:db8:1:2:bbbb::7"), "2001:db8:1:2::/64");
    EXPECT_EQ(RateLimiter::client_key("::ffff:10.1.2.3"), "10.1.2.3");
    EXPECT_EQ(RateLimiter::client_key("10.1.2.3"), "10.1.2.3");
    RateLimiter limiter(1);
    const auto t0 = RateLimiter::Clock::time_point{} + 1h;
    EXPECT_FALSE(limiter.take("2001:db8:1:2:aaaa::1", t0));
    EXPECT_TRUE(limiter.take("2001:db8:1:2:bbbb::7", t0)) << "a new address in the same /64 shares the bucket";
}

TEST(RateLimiter, TheTableStaysBoundedAndForgetsIdleClientsFirst) {
    RateLimiter limiter(1, 8);
    const auto t0 = RateLimiter::Clock::time_point{} + 1h;
    EXPECT_FALSE(limiter.take("10.0.0.1", t0));
    for (int i = 0; i < 100; ++i) limiter.take("10.1.0." + std::to_string(i), t0 + 10s);
    EXPECT_LE(limiter.clients(), 8u);
    // A client that is mid-burst survives a sweep that only finds idle buckets to drop.
    RateLimiter busy(1, 2);
    EXPECT_FALSE(busy.take("10.0.0.1", t0));
    EXPECT_FALSE(busy.take("10.0.0.2", t0 - 10s));
    EXPECT_FALSE(busy.take("10.0.0.3", t0));
    EXPECT_TRUE(busy.take("10.0.0.1", t0)) << "10.0.0.2 was idle and went, 10.0.0.1 kept its empty bucket";
}

TEST(RateLimiter, AnswersTooManyRequestsWithRetryAfterWithoutCallingTheHandler) {
    RateLimiter limiter(1);
    int calls = 0;
    auto handler = rate_limited(&limiter, [&](const ServerRequest&, const PathParams&) {
        ++calls;
        return json_response(202, "{}");
    });
    ServerRequest req;
    req.remote_address = "192.0.2.7";
    EXPECT_EQ(handler(req, PathParams{}).status, 202u);
    const auto limited = handler(req, PathParams{});
    EXPECT_EQ(limited.status, 429u);
    ASSERT_EQ(limited.headers.size(), 1u);
    EXPECT_EQ(limited.headers[0].first, "Retry-After");
    EXPECT_EQ(limited.headers[0].second, "1");
    EXPECT_NE(limited.body.find("server.rate_limit allows 1 per second"), std::string::npos) << limited.body;
    EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace hookyard::http
