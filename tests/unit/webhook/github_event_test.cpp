#include "webhook/github_event.hpp"

#include <gtest/gtest.h>

using namespace hookyard::webhook;

TEST(GithubPayload, DecodesFormEncodedPayloadField) {
    auto j = decode_payload("application/x-www-form-urlencoded", "payload=%7B%22ref%22%3A%22refs%2Fheads%2Fa+b%22%7D");
    ASSERT_TRUE(j.ok()) << j.error().message;
    EXPECT_EQ((*j)["ref"], "refs/heads/a b");
    EXPECT_FALSE(decode_payload("application/x-www-form-urlencoded", "other=1").ok());
}

TEST(GithubPayload, RejectsTruncatedDeepAndInvalidUtf8Json) {
    EXPECT_FALSE(decode_payload("application/json", R"({"ref": "refs/he)").ok());
    EXPECT_NE(decode_payload("application/json", std::string(100000, '[') + std::string(100000, ']'))
                  .error()
                  .message.find("nested"),
              std::string::npos);
    auto bad = decode_payload("application/json", "{\"ref\": \"\xff\xfe\"}");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("UTF-8"), std::string::npos);
    EXPECT_FALSE(decode_payload("text/plain", "{}").ok());
    EXPECT_FALSE(decode_payload("application/json", "[1]").ok());
}

TEST(GithubPush, CollectsChangedFilesOnceInOrder) {
    auto j = nlohmann::json::parse(R"({"ref":"refs/heads/main","after":"abc","repository":{"full_name":"a/b"},
        "head_commit":{"message":"m"},"pusher":{"name":"p"},
        "commits":[{"added":["x"],"modified":["y"],"removed":[]},{"added":["y"],"modified":[],"removed":["z"]}]})");
    auto p = parse_push(j);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->changed_files, (std::vector<std::string>{"x", "y", "z"}));
    EXPECT_EQ(p->head_commit_message, "m");
    EXPECT_EQ(p->pusher, "p");
}

TEST(GithubPush, NamesTheMissingField) {
    auto p = parse_push(nlohmann::json::parse(R"({"ref":"refs/heads/main","after":"abc"})"));
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().message.find("repository"), std::string::npos);
    auto q = parse_push(nlohmann::json::parse(R"({"after":"abc","repository":{"full_name":"a/b"}})"));
    EXPECT_NE(q.error().message.find("ref"), std::string::npos);
}
