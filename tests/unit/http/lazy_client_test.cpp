// LazyClient: nothing is created until the first request; then requests go through one real client.

#include "http/lazy_client.hpp"

#include <gtest/gtest.h>

#include "tests/support/http_test_server.hpp"

namespace hookyard::http {
namespace {

TEST(LazyClient, ForwardsEveryRequestToTheClientItCreates) {
    test::HttpTestServer receiver;
    LazyClient client({});
    for (int i = 0; i < 2; ++i) {
        Request req;
        req.url = receiver.url("/hook");
        auto res = client.request(req);
        ASSERT_TRUE(res) << res.error().message;
        EXPECT_EQ(res->status, 200);
    }
    EXPECT_EQ(receiver.count(), 2u);
}

TEST(LazyClient, OptionsAreOnlyUsedAtTheFirstRequestWhoseErrorTheyBecome) {
    ClientOptions options;
    options.ca_file = "/nonexistent/ca.pem";
    ASSERT_FALSE(make_client(options)) << "the eager client must reject this CA file for the test to mean anything";
    LazyClient client(options);  // constructing does not load it
    Request req;
    req.url = "http://127.0.0.1:1/";
    EXPECT_FALSE(client.request(req));
}

}  // namespace
}  // namespace hookyard::http
