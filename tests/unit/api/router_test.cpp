// The router without sockets: real config, real SQLite store in a temp dir.

#include "api/router.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <future>
#include <nlohmann/json.hpp>

#include "config/loader.hpp"
#include "tests/support/support.hpp"
#include "util/signature.hpp"

using namespace hookyard;
using Request = http::ServerRequest;
using Response = http::ServerResponse;

namespace {

constexpr const char* k_config = R"(
server: { listen: "127.0.0.1:0", webhook_secret: "s3cret", api_token: "api-tok" }
registries:
  local: { endpoint: "http://127.0.0.1:5000" }
repositories:
  - github: acme/web
    registry: local
    push_repo: 127.0.0.1:5000/acme/web
    trigger_token: trig-tok
    rules:
      - { source_type: branch, source: main, tag: latest }
      - { source_type: tag, source: '/^v([0-9.]+)$/', tag: '{\1}' }
      - { source_type: branch, source: manual, tag: manual, autobuild: false }
)";

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

class RouterTest : public ::testing::Test {
protected:
    RouterTest() {
        auto outcome = config::load_config_text(k_config, "test.yaml");
        if (!outcome.config) throw std::runtime_error(outcome.diagnostics.at(0).str());
        m_config = *outcome.config;
        auto store = storage::make_sqlite_store(m_dir / "db.sqlite");
        if (!store) throw std::runtime_error(store.error().message);
        m_store = std::move(*store);
        m_router = std::make_unique<api::Router>(m_config, *m_store, m_metrics);
    }

    Response call(Request req) {
        std::promise<Response> p;
        auto f = p.get_future();
        m_router->handle(std::move(req), [&p](Response r) { p.set_value(std::move(r)); });
        return f.get();
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

    Response api(const std::string& method, const std::string& target, const std::string& token = "api-tok") {
        Request r{method, target, {}, ""};
        if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
        return call(std::move(r));
    }

    static nlohmann::json json(const Response& r) { return nlohmann::json::parse(r.body); }

    test::TempDir m_dir;
    config::Config m_config;
    std::unique_ptr<storage::Store> m_store;
    api::Metrics m_metrics;
    std::unique_ptr<api::Router> m_router;
};

}  // namespace

TEST_F(RouterTest, PushToAMatchingBranchQueuesBuildsAndAnswers202) {
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
}

TEST_F(RouterTest, RepeatedDeliveryIsA200DuplicateWithSameBuilds) {
    auto first = json(github("push", "d-1", push_body("refs/heads/main")));
    auto again = github("push", "d-1", push_body("refs/heads/main"));
    EXPECT_EQ(again.status, 200u);
    EXPECT_EQ(json(again)["duplicate"], true);
    EXPECT_EQ(json(again)["builds"], first["builds"]);
}

TEST_F(RouterTest, FormEncodedPushIsAccepted) {
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

TEST_F(RouterTest, IgnoredPushesAnswer200WithAReasonAndQueueNothing) {
    EXPECT_NE(
        json(github("push", "a", push_body("refs/heads/main", true)))["reason"].get<std::string>().find("deletes"),
        std::string::npos);
    EXPECT_EQ(github("push", "b", push_body("refs/heads/other")).status, 200u);
    EXPECT_EQ(github("push", "c", push_body("refs/heads/manual")).status, 200u);
    EXPECT_EQ(github("push", "d", push_body("refs/heads/main", false, "wip [skip ci]")).status, 200u);
    auto unknown = push_body("refs/heads/main");
    auto j = nlohmann::json::parse(unknown);
    j["repository"]["full_name"] = "someone/else";
    auto res = github("push", "e", j.dump());
    EXPECT_EQ(res.status, 200u);
    EXPECT_NE(json(res)["reason"].get<std::string>().find("not configured"), std::string::npos);
    EXPECT_EQ(github("issues", "f", R"({"action":"opened"})").status, 200u);
    EXPECT_EQ(github("ping", "g", R"({"zen":"Keep it logically awesome."})").status, 200u);
    EXPECT_TRUE(m_store->list_builds({})->empty());
}

TEST_F(RouterTest, BadDeliveriesGetTheirStatusAndAJsonError) {
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
    auto m = call(Request{"GET", "/metrics", {}, ""});
    EXPECT_EQ(m.body.find("fake_metric"), std::string::npos);
    EXPECT_NE(m.body.find("event=\"unverified\",outcome=\"rejected\"} 2"), std::string::npos) << m.body;
    Request get{"GET", "/hooks/github", {}, ""};
    EXPECT_EQ(call(get).status, 405u);
    Request nowhere{"GET", "/nowhere", {}, ""};
    EXPECT_EQ(call(nowhere).status, 404u);
    Request big{"POST", "/hooks/github", {}, std::string(http::k_max_body_bytes + 1, 'x')};
    EXPECT_EQ(call(big).status, 413u);
}

TEST_F(RouterTest, ApiNeedsTheBearerToken) {
    EXPECT_EQ(api("GET", "/api/v1/builds", "").status, 401u);
    EXPECT_EQ(api("GET", "/api/v1/builds", "nope").status, 401u);
    EXPECT_EQ(api("GET", "/api/v1/builds").status, 200u);
}

TEST_F(RouterTest, ApiListsGetsCancelsAndRetriesBuilds) {
    github("push", "d-1", push_body("refs/heads/main"));
    github("push", "d-2", push_body("refs/tags/v2.0"));
    auto list = json(api("GET", "/api/v1/builds?state=queued&limit=1"));
    ASSERT_EQ(list["builds"].size(), 1u);
    const auto id = list["builds"][0]["id"].get<storage::BuildId>();
    EXPECT_EQ(list["builds"][0]["ref"], "refs/tags/v2.0");
    EXPECT_EQ(api("GET", "/api/v1/builds?state=bogus").status, 400u);

    auto one = api("GET", "/api/v1/builds/" + std::to_string(id));
    ASSERT_EQ(one.status, 200u);
    EXPECT_EQ(json(one)["state"], "queued");
    EXPECT_TRUE(json(one)["created_at"].get<std::string>().ends_with("Z"));
    EXPECT_EQ(api("GET", "/api/v1/builds/999").status, 404u);
    EXPECT_EQ(api("GET", "/api/v1/builds/abc").status, 400u);

    auto canceled = api("POST", "/api/v1/builds/" + std::to_string(id) + "/cancel");
    EXPECT_EQ(json(canceled)["state"], "canceled");
    EXPECT_EQ(api("POST", "/api/v1/builds/" + std::to_string(id) + "/cancel").status, 409u);
    auto retried = api("POST", "/api/v1/builds/" + std::to_string(id) + "/retry");
    ASSERT_EQ(retried.status, 201u);
    EXPECT_EQ(json(retried)["retry_of"], id);
    EXPECT_EQ(api("GET", "/api/v1/builds/" + std::to_string(id) + "/cancel").status, 405u);
}

TEST_F(RouterTest, ApiServesTheLogFromAnOffset) {
    auto ids = json(github("push", "d-1", push_body("refs/heads/main")))["builds"];
    const auto id = ids[0].get<storage::BuildId>();
    ASSERT_TRUE(m_store->append_log(id, "hello world\n").ok());
    auto r = api("GET", "/api/v1/builds/" + std::to_string(id) + "/log?offset=6");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, "world\n");
    bool saw_next = false;
    for (const auto& [k, v] : r.headers) saw_next |= (k == "X-Log-Next-Offset" && v == "12");
    EXPECT_TRUE(saw_next);
}

TEST_F(RouterTest, TriggerQueuesManualBuildsByBranchOrTag) {
    Request r{"POST", "/api/v1/trigger/trig-tok", {}, R"({"source_type":"Branch","source_name":"manual"})"};
    auto res = call(r);
    ASSERT_EQ(res.status, 202u) << res.body;
    auto b = m_store->get_build(json(res)["builds"][0].get<storage::BuildId>());
    EXPECT_EQ(b->ref, "refs/heads/manual");
    EXPECT_TRUE(b->commit.empty());
    Request by_tag{"POST", "/api/v1/trigger/trig-tok", {}, R"({"docker_tag":"latest"})"};
    auto t = call(by_tag);
    ASSERT_EQ(t.status, 202u) << t.body;
    EXPECT_EQ(m_store->get_build(json(t)["builds"][0].get<storage::BuildId>())->ref, "refs/heads/main");
    Request wrong{"POST", "/api/v1/trigger/nope", {}, "{}"};
    EXPECT_EQ(call(wrong).status, 404u);
    Request nomatch{"POST", "/api/v1/trigger/trig-tok", {}, R"({"source_type":"Branch","source_name":"x"})"};
    EXPECT_EQ(call(nomatch).status, 400u);
}

TEST_F(RouterTest, MetricsCountRequestsDeliveriesAndQueue) {
    github("push", "d-1", push_body("refs/heads/main"));
    github("push", "d-1", push_body("refs/heads/main"));
    auto m = call(Request{"GET", "/metrics", {}, ""});
    EXPECT_EQ(m.status, 200u);
    EXPECT_NE(m.body.find("hookyard_http_requests_total{route=\"github\",status=\"202\"} 1"), std::string::npos);
    EXPECT_NE(m.body.find("hookyard_webhook_deliveries_total{event=\"push\",outcome=\"duplicate\"} 1"),
              std::string::npos);
    EXPECT_NE(m.body.find("hookyard_queue_depth 1"), std::string::npos);
    EXPECT_NE(m.body.find("hookyard_http_request_duration_seconds_count 2"), std::string::npos);
    EXPECT_EQ(call(Request{"GET", "/healthz", {}, ""}).status, 200u);
}

TEST_F(RouterTest, FollowingTheLogStreamsUntilTheBuildIsTerminal) {
    auto ids = json(github("push", "d-1", push_body("refs/heads/main")))["builds"];
    const auto id = ids[0].get<storage::BuildId>();
    ASSERT_TRUE(m_store->append_log(id, "one\n").ok());
    auto r = api("GET", "/api/v1/builds/" + std::to_string(id) + "/log?follow=1");
    ASSERT_EQ(r.status, 200u);
    ASSERT_TRUE(static_cast<bool>(r.stream));
    auto first = r.stream();
    EXPECT_EQ(first.data, "one\n");
    EXPECT_FALSE(first.done);
    auto idle = r.stream();
    EXPECT_TRUE(idle.data.empty());
    EXPECT_FALSE(idle.done);
    ASSERT_TRUE(m_store->append_log(id, "two\n").ok());
    ASSERT_TRUE(m_store->cancel_build(id).ok());
    auto last = r.stream();
    EXPECT_EQ(last.data, "two\n");
    EXPECT_TRUE(last.done);
}
