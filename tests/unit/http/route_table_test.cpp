// The route table without sockets: matching, path parameters, 404/405 and the observer.

#include "http/route_table.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

using namespace hookyard::http;

namespace {

struct Observed {
    std::string label;
    unsigned status = 0;
    double seconds = -1;
};

class RouteTableTest : public ::testing::Test {
protected:
    RouteTableTest() {
        m_table.set_observer([this](std::string_view label, unsigned status, double seconds) {
            m_observed.push_back({std::string(label), status, seconds});
        });
        m_table.add("GET", "/api/v1/builds/{id}/log", "api", [](const ServerRequest&, const PathParams& p) {
            return json_response(200, nlohmann::json{{"id", p.get("id")}, {"none", p.get("other")}}.dump());
        });
        m_table.add(
            "POST", "/api/v1/callbacks/{id}/{token}", "callback", [](const ServerRequest&, const PathParams& p) {
                return json_response(200, nlohmann::json{{"id", p.get("id")}, {"token", p.get("token")}}.dump());
            });
        m_table.add("GET", "/healthz", "healthz",
                    [](const ServerRequest&, const PathParams&) { return json_response(200, "{}"); });
        m_table.add("HEAD", "/healthz", "healthz",
                    [](const ServerRequest&, const PathParams&) { return json_response(200, "{}"); });
    }

    ServerResponse call(const std::string& method, const std::string& target) {
        ServerResponse out;
        bool answered = false;
        m_table.handle(ServerRequest{method, target, {}, ""}, [&](ServerResponse r) {
            EXPECT_FALSE(answered) << "answered twice";
            answered = true;
            out = std::move(r);
        });
        EXPECT_TRUE(answered);
        return out;
    }

    static nlohmann::json json(const ServerResponse& r) { return nlohmann::json::parse(r.body); }

    RouteTable m_table;
    std::vector<Observed> m_observed;
};

}  // namespace

TEST_F(RouteTableTest, PathParametersArriveByNamePercentDecoded) {
    auto r = call("GET", "/api/v1/builds/42/log?offset=3");
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(json(r)["id"], "42");
    EXPECT_EQ(json(r)["none"], "");
    auto cb = call("POST", "/api/v1/callbacks/7/a%20b");
    EXPECT_EQ(json(cb)["id"], "7");
    EXPECT_EQ(json(cb)["token"], "a b");
}

TEST_F(RouteTableTest, UnknownPathsAndEmptyParametersAre404Json) {
    for (const char* target : {"/nowhere", "/api/v1/builds/42", "/api/v1/builds//log", "/healthz/x", "/"}) {
        auto r = call("GET", target);
        EXPECT_EQ(r.status, 404u) << target;
        EXPECT_EQ(json(r)["error"], std::string("no such endpoint: ") + target);
    }
    EXPECT_EQ(m_observed.back().label, k_unrouted_label);
}

TEST_F(RouteTableTest, AKnownPathWithAnotherMethodIs405WithAllow) {
    auto r = call("POST", "/healthz");
    EXPECT_EQ(r.status, 405u);
    EXPECT_EQ(json(r)["error"], "use GET, HEAD for /healthz");
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Allow", "GET, HEAD"}));
    EXPECT_EQ(m_observed.back().label, "healthz");
    EXPECT_EQ(m_observed.back().status, 405u);
}

TEST_F(RouteTableTest, AnInvalidTargetIs400) {
    auto r = call("GET", "no-slash");
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(m_observed.back().label, k_unrouted_label);
}

TEST_F(RouteTableTest, TheObserverSeesEveryAnswerWithItsLabel) {
    call("GET", "/healthz");
    call("POST", "/api/v1/callbacks/1/t");
    ASSERT_EQ(m_observed.size(), 2u);
    EXPECT_EQ(m_observed[0].label, "healthz");
    EXPECT_EQ(m_observed[0].status, 200u);
    EXPECT_GE(m_observed[0].seconds, 0.0);
    EXPECT_EQ(m_observed[1].label, "callback");
}

TEST_F(RouteTableTest, AsyncHandlersAreObservedWhenTheyAnswer) {
    Responder later;
    m_table.add_async("POST", "/hooks/github", "github",
                      [&later](const ServerRequest&, const PathParams&, Responder respond) { later = respond; });
    bool answered = false;
    m_table.handle(ServerRequest{"POST", "/hooks/github", {}, ""}, [&](ServerResponse) { answered = true; });
    EXPECT_FALSE(answered);
    EXPECT_TRUE(m_observed.empty());
    ASSERT_TRUE(static_cast<bool>(later));
    later(json_response(202, "{}"));
    EXPECT_TRUE(answered);
    ASSERT_EQ(m_observed.size(), 1u);
    EXPECT_EQ(m_observed[0].label, "github");
    EXPECT_EQ(m_observed[0].status, 202u);
}

TEST_F(RouteTableTest, MalformedOrRepeatedPatternsAreRejected) {
    auto ok = [](const ServerRequest&, const PathParams&) { return json_response(200, "{}"); };
    EXPECT_THROW(m_table.add("GET", "relative", "x", ok), std::invalid_argument);
    EXPECT_THROW(m_table.add("GET", "/a/{id", "x", ok), std::invalid_argument);
    EXPECT_THROW(m_table.add("GET", "/a/{}", "x", ok), std::invalid_argument);
    EXPECT_THROW(m_table.add("GET", "/healthz", "x", ok), std::invalid_argument);
    EXPECT_NO_THROW(m_table.add("PUT", "/healthz", "x", ok));
}

TEST(RouteTable, WithoutAnObserverStillAnswers) {
    RouteTable table;
    table.add("GET", "/", "root", [](const ServerRequest&, const PathParams&) { return json_response(204, ""); });
    unsigned status = 0;
    table.handler()(ServerRequest{"GET", "/", {}, ""}, [&](ServerResponse r) { status = r.status; });
    EXPECT_EQ(status, 204u);
}

TEST_F(RouteTableTest, AThrowingHandlerIsA500NamingTheCauseAndTheTableKeepsServing) {
    m_table.add("POST", "/boom", "boom", [](const ServerRequest&, const PathParams&) -> ServerResponse {
        throw std::runtime_error("type must be string, but is number");
    });
    auto r = call("POST", "/boom");
    EXPECT_EQ(r.status, 500u);
    EXPECT_EQ(json(r)["error"], "internal error: type must be string, but is number");
    EXPECT_EQ(m_observed.back().label, "boom");
    EXPECT_EQ(m_observed.back().status, 500u);
    EXPECT_EQ(call("GET", "/healthz").status, 200u);
}

TEST_F(RouteTableTest, AHandlerThatThrowsAfterAnsweringIsAnsweredOnce) {
    m_table.add_async("POST", "/late", "late", [](const ServerRequest&, const PathParams&, Responder respond) {
        respond(json_response(202, "{}"));
        throw 42;  // not a std::exception: still caught
    });
    EXPECT_EQ(call("POST", "/late").status, 202u);  // call() fails the test on a second answer
}
