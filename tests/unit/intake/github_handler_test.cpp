// POST /hooks/github: verify, parse, plan, store, answer.

#include "webhook/intake/github_handler.hpp"

#include <cstdio>
#include <map>

#include "tests/unit/intake/intake_fixture.hpp"
#include "util/signature.hpp"

using namespace hookyard;
using Request = http::ServerRequest;
using Response = http::ServerResponse;

namespace {

std::string push_body(const std::string& ref, bool deleted = false, const std::string& message = "change") {
    return nlohmann::json{{"ref", ref},
                          {"after", "0123456789abcdef0123456789abcdef01234567"},
                          {"deleted", deleted},
                          {"repository", {{"full_name", "acme/web"}, {"clone_url", "https://github.com/acme/web.git"}}},
                          {"head_commit", {{"message", message}}},
                          {"pusher", {{"name", "octocat"}}},
                          {"commits", nlohmann::json::array()}}
        .dump();
}

class GithubHandlerTest : public test::IntakeTest {
protected:
    GithubHandlerTest()
        : m_handler(
              m_config, *m_store,
              [this](std::string_view event, std::string_view outcome) {
                  std::lock_guard lock(m_mutex);
                  ++m_counts[std::string(event) + "/" + std::string(outcome)];
              },
              [this] { ++m_queued; }) {
        m_handler.add_routes(m_table);
    }

    Response github(const std::string& event, const std::string& delivery, const std::string& body,
                    const std::string& secret = "s3cret") {
        Request r{"POST", "/hooks/github", {}, body};
        r.headers["x-github-event"] = event;
        r.headers["x-github-delivery"] = delivery;
        r.headers["content-type"] = "application/json";
        r.headers["x-hub-signature-256"] = "sha256=" + util::hmac_sha256_hex(secret, body);
        return call(std::move(r));
    }

    int count(const std::string& key) {
        std::lock_guard lock(m_mutex);
        return m_counts[key];
    }

    std::mutex m_mutex;
    std::map<std::string, int> m_counts;
    intake::GithubHandler m_handler;
};

}  // namespace

TEST_F(GithubHandlerTest, PushToAMatchingBranchQueuesBuildsAndAnswers202) {
    auto r = github("push", "d-1", push_body("refs/heads/main"));
    ASSERT_EQ(r.status, 202u) << r.body;
    auto body = json(r);
    EXPECT_EQ(body["delivery"], "d-1");
    ASSERT_EQ(body["builds"].size(), 1u);
    auto b = m_store->get_build(body["builds"][0].get<storage::BuildId>());
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->tags, std::vector<std::string>{"latest"});
    EXPECT_EQ(b->image, "127.0.0.1:5000/acme/web");
    EXPECT_EQ(b->clone_url, "https://github.com/acme/web.git");
    EXPECT_EQ(b->pusher, "octocat");
    EXPECT_FALSE(b->forced);
    EXPECT_EQ(b->trigger_type, "push");
    EXPECT_EQ(b->trigger_reason, "push of refs/heads/main (0123456) by octocat");
    EXPECT_EQ(m_queued, 1);
    EXPECT_EQ(count("push/accepted"), 1);

    // A force push is stored as such: the stage runner never supersedes it as a replay.
    auto forced = nlohmann::json::parse(push_body("refs/heads/main"));
    forced["forced"] = true;
    auto f = github("push", "d-forced", forced.dump());
    ASSERT_EQ(f.status, 202u) << f.body;
    const auto forced_build = m_store->get_build(json(f)["builds"][0].get<storage::BuildId>());
    EXPECT_TRUE(forced_build->forced);
    EXPECT_EQ(forced_build->trigger_reason, "forced push of refs/heads/main (0123456) by octocat");
}

TEST_F(GithubHandlerTest, RepeatedDeliveryIsA200DuplicateWithSameBuilds) {
    auto first = json(github("push", "d-1", push_body("refs/heads/main")));
    auto again = github("push", "d-1", push_body("refs/heads/main"));
    EXPECT_EQ(again.status, 200u);
    EXPECT_EQ(json(again)["duplicate"], true);
    EXPECT_EQ(json(again)["builds"], first["builds"]);
    EXPECT_EQ(m_queued, 1);
    EXPECT_EQ(count("push/duplicate"), 1);
}

TEST_F(GithubHandlerTest, FormEncodedPushIsAccepted) {
    const std::string payload = push_body("refs/tags/v1.2");
    std::string encoded;
    for (unsigned char c : payload) {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        encoded += std::isalnum(c) ? std::string(1, static_cast<char>(c)) : std::string(buf);
    }
    const std::string body = "payload=" + encoded;
    Request r{"POST", "/hooks/github", {}, body};
    r.headers = {{"x-github-event", "push"},
                 {"x-github-delivery", "f-1"},
                 {"content-type", "application/x-www-form-urlencoded"},
                 {"x-hub-signature-256", "sha256=" + util::hmac_sha256_hex("s3cret", body)}};
    auto res = call(r);
    ASSERT_EQ(res.status, 202u) << res.body;
    auto b = m_store->get_build(json(res)["builds"][0].get<storage::BuildId>());
    EXPECT_EQ(b->tags, std::vector<std::string>{"1.2"});
}

TEST_F(GithubHandlerTest, IgnoredPushesAnswer200WithAReasonAndQueueNothing) {
    EXPECT_NE(
        json(github("push", "a", push_body("refs/heads/main", true)))["reason"].get<std::string>().find("deletes"),
        std::string::npos);
    EXPECT_EQ(github("push", "b", push_body("refs/heads/other")).status, 200u);
    EXPECT_EQ(github("push", "c", push_body("refs/heads/manual")).status, 200u);
    EXPECT_EQ(github("push", "d", push_body("refs/heads/main", false, "wip [skip ci]")).status, 200u);
    auto j = nlohmann::json::parse(push_body("refs/heads/main"));
    j["repository"]["full_name"] = "someone/else";
    auto res = github("push", "e", j.dump());
    EXPECT_EQ(res.status, 200u);
    EXPECT_NE(json(res)["reason"].get<std::string>().find("not configured"), std::string::npos);
    EXPECT_EQ(github("issues", "f", R"({"action":"opened"})").status, 200u);
    auto pong = github("ping", "g", R"({"zen":"Keep it logically awesome."})");
    EXPECT_EQ(pong.status, 200u);
    EXPECT_EQ(json(pong)["zen"], "Keep it logically awesome.");
    EXPECT_TRUE(m_store->list_builds({})->empty());
    EXPECT_EQ(count("push/ignored"), 5);
    EXPECT_EQ(count("issues/ignored"), 1);
    EXPECT_EQ(m_queued, 0);
}

TEST_F(GithubHandlerTest, BadDeliveriesGetTheirStatusAndAJsonError) {
    EXPECT_EQ(github("push", "x", push_body("refs/heads/main"), "wrong").status, 401u);
    Request unsigned_req{"POST", "/hooks/github", {{"x-github-event", "push"}, {"x-github-delivery", "y"}}, "{}"};
    auto r = call(unsigned_req);
    EXPECT_EQ(r.status, 401u);
    EXPECT_TRUE(json(r).contains("error"));
    EXPECT_EQ(github("push", "z", R"({"ref": "refs/hea)").status, 400u);
    EXPECT_EQ(github("push", "z", R"({"ref": "refs/heads/main"})").status, 400u);
    EXPECT_EQ(github("", "z", R"({})").status, 400u);
    EXPECT_EQ(github("push", "bad\xff-id", push_body("refs/heads/main")).status, 400u);
    EXPECT_EQ(github("push", std::string(200, 'a'), push_body("refs/heads/main")).status, 400u);
    EXPECT_EQ(github("push\"} 1\nfake_metric{x=\"", "e", push_body("refs/heads/main")).status, 400u);
    EXPECT_EQ(count("unverified/rejected"), 2);
    EXPECT_EQ(count("unknown/rejected"), 2);  // empty and implausible event names never become labels
    EXPECT_EQ(count("push/rejected"), 4);
    EXPECT_EQ(call(Request{"GET", "/hooks/github", {}, ""}).status, 405u);
    Request big{"POST", "/hooks/github", {}, std::string(http::k_max_body_bytes + 1, 'x')};
    EXPECT_EQ(call(big).status, 413u);
    EXPECT_EQ(m_queued, 0);
}

TEST_F(GithubHandlerTest, EveryGithubEventNameIsAcknowledged) {
    for (const char* event : {"projects_v2_item", "projects_v2", "projects_v2_status_update", "workflow_run"}) {
        auto res = github(event, std::string("ev-") + event, R"({"action":"edited"})");
        EXPECT_EQ(res.status, 200u) << event << ": " << res.body;
        EXPECT_TRUE(json(res)["ignored"].get<bool>()) << event;
    }
    EXPECT_EQ(count("projects_v2_item/ignored"), 1);
    EXPECT_EQ(github("push-2", "ev-x", R"({})").status, 400u);
}

TEST_F(GithubHandlerTest, AfterMustBeFortyHexCharacters) {
    for (const char* after : {"../../etc", "0123456789abcdef", "0123456789abcdef0123456789abcdef0123456g"}) {
        auto j = nlohmann::json::parse(push_body("refs/heads/main"));
        j["after"] = after;
        auto res = github("push", std::string("after-") + after, j.dump());
        EXPECT_EQ(res.status, 400u) << after;
        EXPECT_NE(json(res)["error"].get<std::string>().find("'after'"), std::string::npos);
    }
    auto deletion = nlohmann::json::parse(push_body("refs/heads/main", true));
    deletion["after"] = std::string(40, '0');
    EXPECT_EQ(github("push", "after-deleted", deletion.dump()).status, 200u);
    EXPECT_TRUE(m_store->list_builds({})->empty());
}

TEST_F(GithubHandlerTest, ARefOver255BytesIsIgnoredWith200) {
    auto res = github("push", "long-ref", push_body("refs/heads/" + std::string(250, 'a')));
    EXPECT_EQ(res.status, 200u) << res.body;
    EXPECT_NE(json(res)["reason"].get<std::string>().find("255"), std::string::npos);
    EXPECT_TRUE(m_store->list_builds({})->empty());
}

TEST_F(GithubHandlerTest, TheCloneUrlComesFromTheConfigNeverThePayload) {
    auto other = nlohmann::json::parse(push_body("refs/heads/main"));
    other["repository"]["clone_url"] = "https://attacker.example/acme/web.git";
    auto refused = github("push", "clone-1", other.dump());
    EXPECT_EQ(refused.status, 400u);
    EXPECT_NE(json(refused)["error"].get<std::string>().find("github.url"), std::string::npos) << refused.body;
    EXPECT_TRUE(m_store->list_builds({})->empty());
    auto same = nlohmann::json::parse(push_body("refs/heads/main"));
    same["repository"]["clone_url"] = "https://GitHub.com/ACME/web/";  // case, ".git" and "/" do not matter
    auto res = github("push", "clone-2", same.dump());
    ASSERT_EQ(res.status, 202u) << res.body;
    EXPECT_EQ(m_store->get_build(json(res)["builds"][0].get<storage::BuildId>())->clone_url,
              "https://github.com/acme/web.git");
}
