#include "webhook/intake/github_event.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace hookyard::intake;

TEST(GithubPayload, DecodesFormEncodedPayloadField) {
    auto p = parse_payload("application/x-www-form-urlencoded", "payload=%7B%22ref%22%3A%22refs%2Fheads%2Fa+b%22%7D");
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->ref, "refs/heads/a b");
    EXPECT_FALSE(parse_payload("application/x-www-form-urlencoded", "other=1").ok());
}

TEST(GithubPayload, RejectsTruncatedDeepAndInvalidUtf8Json) {
    EXPECT_FALSE(parse_payload("application/json", R"({"ref": "refs/he)").ok());
    auto deep =
        parse_payload("application/json", "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}");
    ASSERT_FALSE(deep.ok());
    EXPECT_NE(deep.error().message.find("nested"), std::string::npos);
    auto bad = parse_payload("application/json", "{\"ref\": \"\xff\xfe\"}");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("UTF-8"), std::string::npos);
    EXPECT_FALSE(parse_payload("text/plain", "{}").ok());
    EXPECT_FALSE(parse_payload("application/json", "[1]").ok());
    EXPECT_FALSE(parse_payload("application/json", "\"x\"").ok());
    EXPECT_FALSE(parse_payload("application/json", "{} trailing").ok());
}

TEST(GithubPush, CollectsFieldsAndChangedFilesOnceInOrder) {
    auto p =
        parse_payload("application/json",
                      R"({"ref":"refs/heads/main","after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","deleted":false,
        "repository":{"full_name":"a/b","clone_url":"https://x/a/b.git","owner":{"name":"not-the-pusher"}},
        "head_commit":{"message":"m","added":["not-a-commit-list"]},"pusher":{"name":"p"},
        "commits":[{"added":["x"],"modified":["y"],"removed":[]},{"added":["y"],"modified":[],"removed":["z"]}]})");
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->changed_files, (std::vector<std::string>{"x", "y", "z"}));
    EXPECT_EQ(p->repository, "a/b");
    EXPECT_EQ(p->clone_url, "https://x/a/b.git");
    EXPECT_EQ(p->head_commit_message, "m");
    EXPECT_EQ(p->pusher, "p");
    EXPECT_FALSE(p->deleted);
    EXPECT_FALSE(p->forced);
    EXPECT_TRUE(check_push(*p).ok());
    // A force push (a rollback) is stored with its builds: they are never superseded as replays.
    EXPECT_TRUE(parse_payload("", R"({"ref":"refs/heads/main","forced":true,"head_commit":{"forced":false}})")->forced);
}

TEST(GithubPush, NamesTheMissingField) {
    auto p = parse_payload("", R"({"ref":"refs/heads/main","after":"abc"})");
    ASSERT_TRUE(p.ok());
    EXPECT_NE(check_push(*p).error().message.find("repository"), std::string::npos);
    auto q = parse_payload("", R"({"after":"abc","repository":{"full_name":"a/b"}})");
    EXPECT_NE(check_push(*q).error().message.find("ref"), std::string::npos);
    auto d = parse_payload("", R"({"ref":"refs/tags/x","deleted":true,"repository":{"full_name":"a/b"}})");
    EXPECT_TRUE(d->deleted);
    EXPECT_TRUE(check_push(*d).ok());
}

TEST(GithubPush, AfterMustBeAFortyCharacterHexCommitId) {
    const std::string head = R"({"ref":"refs/heads/main","repository":{"full_name":"a/b"},"after":")";
    for (const std::string& after :
         std::vector<std::string>{"abc", "../../x", std::string(39, 'a') + "/", std::string(41, 'a')}) {
        auto p = parse_payload("", head + after + "\"}");
        ASSERT_TRUE(p.ok());
        EXPECT_NE(check_push(*p).error().message.find("40-character"), std::string::npos) << after;
    }
    EXPECT_TRUE(check_push(*parse_payload("", head + "6113728F27AE82C7B1A177C8D03F9E96E0ADF246\"}")).ok());
}
