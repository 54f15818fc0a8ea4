#include "http/status.hpp"

#include <gtest/gtest.h>

#include "http/server_types.hpp"

using namespace hookyard;

TEST(HttpStatus, RetriesTimeoutsThrottlingAndServerErrorsOnly) {
    for (int s : {408, 429, 500, 502, 503, 599}) EXPECT_TRUE(http::is_retryable_status(s)) << s;
    for (int s : {200, 201, 301, 400, 401, 403, 404, 409, 422}) EXPECT_FALSE(http::is_retryable_status(s)) << s;
}

TEST(HttpStatus, ErrorKindsMapToTheStatusOfTheirClass) {
    using util::ErrorKind;
    EXPECT_EQ(http::status_for(ErrorKind::invalid_input), 400u);
    EXPECT_EQ(http::status_for(ErrorKind::auth), 401u);
    EXPECT_EQ(http::status_for(ErrorKind::not_found), 404u);
    EXPECT_EQ(http::status_for(ErrorKind::conflict), 409u);
    EXPECT_EQ(http::status_for(ErrorKind::transient), 503u);
    EXPECT_EQ(http::status_for(ErrorKind::timeout), 503u);
    EXPECT_EQ(http::status_for(ErrorKind::internal), 500u);
    auto r = http::json_error(util::make_error(ErrorKind::conflict, "already finished"));
    EXPECT_EQ(r.status, 409u);
    EXPECT_EQ(r.body, "{\"error\":\"already finished\"}\n");
}
