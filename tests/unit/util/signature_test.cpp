#include "util/signature.hpp"

#include <gtest/gtest.h>

using namespace hookyard::util;

TEST(GithubSignature, MatchesGithubsDocumentedExample) {
    // From GitHub's "Validating webhook deliveries" page.
    EXPECT_EQ(hmac_sha256_hex("It's a Secret to Everybody", "Hello, World!"),
              "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

TEST(GithubSignature, AcceptsTheRightSignatureInAnyHexCase) {
    const std::string sig = "sha256=" + hmac_sha256_hex("k", "body");
    EXPECT_TRUE(verify_github_signature("k", "body", sig).ok());
    std::string upper = sig;
    for (std::size_t i = 7; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
    EXPECT_TRUE(verify_github_signature("k", "body", upper).ok());
}

TEST(GithubSignature, RejectsMissingMalformedWrongAndSha1) {
    EXPECT_NE(verify_github_signature("k", "body", "").error().message.find("missing"), std::string::npos);
    EXPECT_FALSE(verify_github_signature("k", "body", "sha1=0123456789012345678901234567890123456789").ok());
    EXPECT_FALSE(verify_github_signature("k", "body", "sha256=" + hmac_sha256_hex("other", "body")).ok());
    EXPECT_FALSE(verify_github_signature("k", "body2", "sha256=" + hmac_sha256_hex("k", "body")).ok());
    EXPECT_FALSE(verify_github_signature("", "body", "sha256=" + hmac_sha256_hex("", "body")).ok());
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
    EXPECT_TRUE(constant_time_equal("abc", "abc"));
    EXPECT_FALSE(constant_time_equal("abc", "abd"));
    EXPECT_FALSE(constant_time_equal("abc", "abcd"));
}
