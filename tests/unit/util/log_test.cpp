// Redaction: a credential that slips into a message must never reach the log.

#include "util/log.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "util/result.hpp"

namespace hookyard::util {
namespace {

TEST(Redact, HidesUrlUserinfo) {
    const std::pair<std::string, std::string> cases[] = {{"https://x-access-token:ghp_abc@github.com/acme/web.git",
                                                          "https://x-access-token:***@github.com/acme/web.git"},
                                                         {"https://ghp_abc@github.com/x", "https://***@github.com/x"},
                                                         {"https://github.com/a@b", "https://github.com/a@b"},
                                                         {"/local/path", "/local/path"}};
    for (const auto& [url, redacted] : cases) EXPECT_EQ(redact_url(url), redacted);
}

TEST(Redact, StripsUrlUserinfo) {
    EXPECT_EQ(strip_url_userinfo("https://x-access-token:ghp_abc@github.com/a/b.git"), "https://github.com/a/b.git");
    for (const char* kept : {"https://github.com/a/b@c.git", "https://host/x?u=a@b", "/srv/app.git"}) {
        EXPECT_EQ(strip_url_userinfo(kept), kept);
    }
}

TEST(Redact, HidesSecretsInFreeText) {
    const auto out = redact(
        "fetch https://bot:ghp_secret@github.com/a.git failed; Authorization: Bearer abc.def "
        "and token=tok123&x=1 password=hunter2");
    EXPECT_EQ(out.find("ghp_secret"), std::string::npos) << out;
    EXPECT_EQ(out.find("abc.def"), std::string::npos) << out;
    EXPECT_EQ(out.find("tok123"), std::string::npos) << out;
    EXPECT_EQ(out.find("hunter2"), std::string::npos) << out;
    EXPECT_NE(out.find("github.com/a.git failed"), std::string::npos) << out;
}

TEST(Redact, ScansLikeTheRegexesDid) {
    EXPECT_EQ(redact("a https://t1@h/x b git+ssh://u:p:q@h c https://h/a@b"),
              "a https://***@h/x b git+ssh://***@h c https://h/a@b");
    EXPECT_EQ(redact("authorization:   token abc def"), "authorization:   token *** def");
    EXPECT_EQ(redact("Authorization: xyz"), "Authorization:  ***");
    EXPECT_EQ(redact("ACCESS_TOKEN=a1&Secret=s2\"x password= y"), "ACCESS_TOKEN=***&Secret=***\"x password= y");
    EXPECT_EQ(redact("://@ plain"), "://@ plain");
}

TEST(ResultValue, CarriesValueOrError) {
    Result<int> ok = 5;
    Result<int> bad = make_error(ErrorKind::transient, "try again");
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, 5);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().kind, ErrorKind::transient);
    EXPECT_TRUE(is_retryable(bad.error().kind));
    EXPECT_FALSE(is_retryable(ErrorKind::auth));
}

}  // namespace
}  // namespace hookyard::util
