// Registry answers become errors that name the cause and the fix.

#include "pipeline/registry/errors.hpp"

#include <gtest/gtest.h>

namespace hookyard::pipeline {
namespace {

http::Response answer(int status, std::string body, http::Headers headers = {}) {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

const ErrorContext k_context{"registry.example.com", "acme/web", "", false};

TEST(RegistryErrors, ParsesTheSpecErrorBody) {
    const auto errors =
        parse_error_body(R"({"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown","detail":{}},{"code":"X"}]})");
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_EQ(errors[0].code, "BLOB_UNKNOWN");
    EXPECT_EQ(errors[0].message, "blob unknown");
    EXPECT_TRUE(parse_error_body("<html>bad gateway</html>").empty());
}

TEST(RegistryErrors, UnauthorizedMeansRefusedCredentials) {
    auto e = response_error(answer(401, R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})"),
                            "x", k_context);
    EXPECT_EQ(e.kind, util::ErrorKind::auth);
    EXPECT_EQ(e.message.rfind("credentials for registry.example.com were refused", 0), 0u) << e.message;
}

TEST(RegistryErrors, AnonymousUnauthorizedAsksForCredentials) {
    ErrorContext anonymous = k_context;
    anonymous.anonymous = true;
    auto e = response_error(answer(401, ""), "x", anonymous);
    EXPECT_NE(e.message.find("requires credentials"), std::string::npos);
}

TEST(RegistryErrors, NameUnknownTellsToCreateTheRepository) {
    auto e = response_error(
        answer(404, R"({"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]})"), "x", k_context);
    EXPECT_EQ(e.kind, util::ErrorKind::not_found);
    EXPECT_NE(e.message.find(
                  "repository acme/web does not exist on registry.example.com; create it first (ECR requires this)"),
              std::string::npos);
}

TEST(RegistryErrors, DeniedAndInsufficientScopeAreDenials) {
    auto denied = response_error(answer(403, R"({"errors":[{"code":"DENIED","message":"no push"}]})"), "x", k_context);
    EXPECT_EQ(denied.kind, util::ErrorKind::auth);
    EXPECT_NE(denied.message.find("push to acme/web on registry.example.com was denied (DENIED: no push)"),
              std::string::npos);
    auto scope = response_error(
        answer(401, "", {{"WWW-Authenticate", R"(Bearer realm="r",error="insufficient_scope")"}}), "x", k_context);
    EXPECT_NE(scope.message.find("was denied"), std::string::npos);
}

TEST(RegistryErrors, InvalidTagNamesTheTag) {
    ErrorContext tagged = k_context;
    tagged.tag = "v1";
    auto e = response_error(
        answer(400, R"({"errors":[{"code":"TAG_INVALID","message":"manifest tag did not match URI"}]})"), "x", tagged);
    EXPECT_EQ(e.kind, util::ErrorKind::invalid_input);
    EXPECT_NE(e.message.find("tag 'v1' was rejected by registry.example.com"), std::string::npos);
}

TEST(RegistryErrors, ServerErrorsAndRateLimitsAreTransientWithRetryAfter) {
    EXPECT_EQ(response_error(answer(503, ""), "x", k_context).kind, util::ErrorKind::transient);
    const auto limited =
        answer(429, R"({"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]})", {{"Retry-After", "7"}});
    EXPECT_EQ(response_error(limited, "uploading", k_context).kind, util::ErrorKind::transient);
    EXPECT_EQ(retry_after(limited, std::chrono::seconds(30)), std::chrono::seconds(7));
    EXPECT_EQ(retry_after(limited, std::chrono::seconds(2)), std::chrono::seconds(2));
    EXPECT_EQ(retry_after(answer(429, ""), std::chrono::seconds(30)), std::chrono::milliseconds(0));
    EXPECT_FALSE(is_retryable_status(400));
    EXPECT_TRUE(is_retryable_status(502));
}

TEST(RegistryErrors, OtherClientErrorsCarryCodeAndMessage) {
    auto e = response_error(
        answer(400, R"({"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry"}]})"),
        "pushing manifest", k_context);
    EXPECT_EQ(e.kind, util::ErrorKind::invalid_input);
    EXPECT_NE(e.message.find("HTTP 400 (MANIFEST_BLOB_UNKNOWN: blob unknown to registry)"), std::string::npos)
        << e.message;
}

}  // namespace
}  // namespace hookyard::pipeline
