// The builds API on its own: a real SQLite store in a temp dir, builds queued directly.

#include "api/builds_api.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/support.hpp"

using namespace hookyard;
using Request = http::ServerRequest;
using Response = http::ServerResponse;

namespace {

class BuildsApiTest : public ::testing::Test {
protected:
    BuildsApiTest() {
        auto store = storage::make_sqlite_store(m_dir / "db.sqlite");
        if (!store) throw std::runtime_error(store.error().message);
        m_store = std::move(*store);
        m_api = std::make_unique<api::BuildsApi>(
            "api-tok", *m_store, [this] { ++m_queued; }, [this] { return m_waiting; });
        m_api->add_routes(m_table);
    }

    storage::BuildId queue(const std::string& ref) {
        storage::NewBuild b;
        b.repository = "acme/web";
        b.ref = ref;
        b.image = "127.0.0.1:5000/acme/web";
        b.tags = {"latest"};
        auto stored = m_store->insert_builds({b});
        if (!stored) throw std::runtime_error(stored.error().message);
        return stored->at(0).id;
    }

    // A queued build whose log so far is `text`.
    storage::BuildId queue_with_log(const std::string& text) {
        const auto id = queue("refs/heads/main");
        if (auto st = m_store->append_log(id, text); !st) throw std::runtime_error(st.error().message);
        return id;
    }

    static std::string header(const Response& r, const std::string& name) {
        for (const auto& [k, v] : r.headers) {
            if (k == name) return v;
        }
        return "";
    }

    Response api(const std::string& method, const std::string& target, const std::string& token = "api-tok") {
        Request r{method, target, {}, ""};
        if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
        Response out;
        m_table.handle(std::move(r), [&out](Response res) { out = std::move(res); });
        return out;
    }
    std::string build_path(storage::BuildId id, const std::string& rest = "") {
        return "/api/v1/builds/" + std::to_string(id) + rest;
    }

    static nlohmann::json json(const Response& r) { return nlohmann::json::parse(r.body); }

    test::TempDir m_dir;
    std::unique_ptr<storage::Store> m_store;
    std::unique_ptr<api::BuildsApi> m_api;
    http::RouteTable m_table;
    int m_queued = 0;
    std::vector<std::string> m_waiting;  // what the pipeline says holds queued builds
};

}  // namespace

TEST_F(BuildsApiTest, EveryRouteNeedsTheBearerToken) {
    const auto id = queue("refs/heads/main");
    for (const auto& target : {std::string("/api/v1/builds"), build_path(id), build_path(id, "/log")}) {
        auto r = api("GET", target, "");
        EXPECT_EQ(r.status, 401u) << target;
        EXPECT_EQ(header(r, "WWW-Authenticate"), "Bearer");
        EXPECT_EQ(api("GET", target, "nope").status, 401u);
    }
    EXPECT_EQ(api("POST", build_path(id, "/cancel"), "nope").status, 401u);
    EXPECT_EQ(api("GET", "/api/v1/builds").status, 200u);
}

TEST_F(BuildsApiTest, WithoutAConfiguredTokenTheApiIsOff) {
    api::BuildsApi off("", *m_store, nullptr);
    http::RouteTable table;
    off.add_routes(table);
    Response out;
    table.handle(Request{"GET", "/api/v1/builds", {{"authorization", "Bearer "}}, ""},
                 [&out](Response r) { out = std::move(r); });
    EXPECT_EQ(out.status, 401u);
    EXPECT_EQ(json(out)["error"], "the API is disabled: set server.api_token in the config");
}

TEST_F(BuildsApiTest, ListsGetsCancelsAndRetriesBuilds) {
    queue("refs/heads/main");
    const auto id = queue("refs/tags/v2.0");
    auto list = json(api("GET", "/api/v1/builds?state=queued&limit=1"));
    ASSERT_EQ(list["builds"].size(), 1u);
    EXPECT_EQ(list["builds"][0]["id"], id);
    EXPECT_EQ(list["builds"][0]["ref"], "refs/tags/v2.0");
    EXPECT_EQ(api("GET", "/api/v1/builds?state=bogus").status, 400u);
    EXPECT_EQ(json(api("GET", "/api/v1/builds?limit=0"))["error"], "limit must be 1..500");
    EXPECT_EQ(json(api("GET", "/api/v1/builds?before=x"))["error"], "before must be a build id");

    auto one = api("GET", build_path(id));
    ASSERT_EQ(one.status, 200u);
    EXPECT_EQ(json(one)["state"], "queued");
    EXPECT_TRUE(json(one)["created_at"].get<std::string>().ends_with("Z"));
    EXPECT_EQ(api("GET", "/api/v1/builds/999").status, 404u);
    EXPECT_EQ(json(api("GET", "/api/v1/builds/abc"))["error"], "'abc' is not a build id");

    EXPECT_EQ(json(api("POST", build_path(id, "/cancel")))["state"], "canceled");
    EXPECT_EQ(api("POST", build_path(id, "/cancel")).status, 409u);
    EXPECT_EQ(m_queued, 0);
    auto retried = api("POST", build_path(id, "/retry"));
    ASSERT_EQ(retried.status, 201u);
    EXPECT_EQ(json(retried)["retry_of"], id);
    EXPECT_EQ(json(retried)["trigger"],
              (nlohmann::json{{"type", "retry"}, {"reason", "retry of #" + std::to_string(id)}}));
    EXPECT_EQ(m_queued, 1);
    EXPECT_EQ(api("GET", build_path(id, "/cancel")).status, 405u);
    EXPECT_EQ(api("GET", build_path(id, "/bogus")).status, 404u);
}

TEST_F(BuildsApiTest, ServesTheLogFromAnOffset) {
    const auto id = queue_with_log("hello world\n");
    auto r = api("GET", build_path(id, "/log?offset=6"));
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, "world\n");
    EXPECT_EQ(header(r, "X-Log-Next-Offset"), "12");
    EXPECT_EQ(header(r, "X-Log-Complete"), "false");
    EXPECT_EQ(api("GET", build_path(id, "/log?offset=-1")).status, 400u);
}

TEST_F(BuildsApiTest, FollowingTheLogStreamsUntilTheBuildIsTerminal) {
    const auto id = queue_with_log("one\n");
    auto r = api("GET", build_path(id, "/log?follow=1"));
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

TEST_F(BuildsApiTest, NotificationsListTheOutboxAndCallbacksOfABuild) {
    const auto id = queue("refs/heads/main");
    storage::BuildCallback cb;
    cb.state = "success";
    cb.received_at = storage::now_ms();
    ASSERT_TRUE(m_store->add_callback(id, cb).ok());
    auto r = api("GET", build_path(id, "/notifications"));
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(json(r)["build"], id);
    EXPECT_TRUE(json(r)["notifications"].is_array());
    ASSERT_EQ(json(r)["callbacks"].size(), 1u);
    EXPECT_EQ(json(r)["callbacks"][0]["state"], "success");
    EXPECT_EQ(api("GET", "/api/v1/builds/999/notifications").status, 404u);
}

TEST_F(BuildsApiTest, QueuedBuildsSayWhyTheyWaitWhileThePipelineHoldsThem) {
    const auto queued = queue("refs/heads/main");
    EXPECT_FALSE(json(api("GET", build_path(queued))).contains("waiting"));
    m_waiting = {"buildah storage /var/lib/containers/storage: 2.0 GiB free, below builder.min_free_space (5.0 GiB)"};
    EXPECT_EQ(json(api("GET", build_path(queued)))["waiting"][0], m_waiting[0]);
    EXPECT_EQ(json(api("GET", "/api/v1/builds"))["builds"][0]["waiting"][0], m_waiting[0]);
    auto canceled = json(api("POST", build_path(queued, "/cancel")));
    EXPECT_FALSE(canceled.contains("waiting")) << "only queued builds wait";
}
