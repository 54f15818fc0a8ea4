// POST /api/v1/trigger/{token}: Docker Hub-style triggers queue manual builds.

#include "webhook/intake/trigger_handler.hpp"

#include "tests/unit/intake/intake_fixture.hpp"

using namespace hookyard;
using Request = http::ServerRequest;

namespace {

class TriggerHandlerTest : public test::IntakeTest {
protected:
    TriggerHandlerTest() : m_handler(m_config, *m_store, [this] { ++m_queued; }) { m_handler.add_routes(m_table); }

    http::ServerResponse trigger(const std::string& token, const std::string& body) {
        return call(Request{"POST", "/api/v1/trigger/" + token, {}, body});
    }

    intake::TriggerHandler m_handler;
};

}  // namespace

TEST_F(TriggerHandlerTest, QueuesManualBuildsByBranchOrTag) {
    auto res = trigger("trig-tok", R"({"source_type":"Branch","source_name":"manual"})");
    ASSERT_EQ(res.status, 202u) << res.body;
    EXPECT_EQ(json(res)["repository"], "acme/web");
    auto b = m_store->get_build(json(res)["builds"][0].get<storage::BuildId>());
    EXPECT_EQ(b->ref, "refs/heads/manual");
    EXPECT_TRUE(b->commit.empty());
    EXPECT_EQ(b->pusher, "api-trigger");
    EXPECT_EQ(b->trigger_type, "trigger_url");
    EXPECT_EQ(b->trigger_reason, "trigger URL for refs/heads/manual");
    auto t = trigger("trig-tok", R"({"docker_tag":"latest"})");
    ASSERT_EQ(t.status, 202u) << t.body;
    EXPECT_EQ(m_store->get_build(json(t)["builds"][0].get<storage::BuildId>())->ref, "refs/heads/main");
    EXPECT_EQ(m_queued, 2);
}

TEST_F(TriggerHandlerTest, AnEmptyBodyBuildsEveryLiteralRuleOnce) {
    auto res = trigger("trig-tok", "");
    ASSERT_EQ(res.status, 202u) << res.body;
    EXPECT_EQ(json(res)["builds"].size(), 2u);  // main and manual; the tag regex names no ref
}

TEST_F(TriggerHandlerTest, UnknownTokensAndBadBodiesQueueNothing) {
    EXPECT_EQ(trigger("nope", "{}").status, 404u);
    EXPECT_EQ(json(trigger("nope", "{}"))["error"], "unknown trigger token");
    EXPECT_EQ(trigger("trig-tok", R"({"source_type":"Branch","source_name":"x"})").status, 400u);
    EXPECT_EQ(json(trigger("trig-tok", "[1]"))["error"], "trigger body must be a JSON object");
    EXPECT_EQ(json(trigger("trig-tok", R"({"source_name":""})"))["error"], "source_name must be a non-empty string");
    EXPECT_EQ(json(trigger("trig-tok", R"({"source_type":"Commit","source_name":"a"})"))["error"],
              "source_type must be Branch or Tag");
    EXPECT_EQ(json(trigger("trig-tok", R"({"docker_tag":1})"))["error"], "docker_tag must be a string");
    EXPECT_EQ(call(Request{"GET", "/api/v1/trigger/trig-tok", {}, ""}).status, 405u);
    EXPECT_TRUE(m_store->list_builds({})->empty());
    EXPECT_EQ(m_queued, 0);
}

TEST_F(TriggerHandlerTest, WrongJsonTypesAre400NamingTheField) {
    auto typed = trigger("trig-tok", R"({"source_name":"main","source_type":1})");
    EXPECT_EQ(typed.status, 400u);
    EXPECT_EQ(json(typed)["error"], "source_type must be a string: Branch or Tag");
    EXPECT_EQ(json(trigger("trig-tok", R"({"source_name":"main","source_type":null})"))["error"],
              "source_type must be a string: Branch or Tag");
    EXPECT_EQ(json(trigger("trig-tok", R"({"source_name":7})"))["error"], "source_name must be a non-empty string");
    EXPECT_TRUE(m_store->list_builds({})->empty());
}

TEST_F(TriggerHandlerTest, ARefOver255BytesIs400) {
    auto res = trigger("trig-tok", R"({"source_type":"Branch","source_name":")" + std::string(250, 'a') + "\"}");
    EXPECT_EQ(res.status, 400u);
    EXPECT_NE(json(res)["error"].get<std::string>().find("255"), std::string::npos);
    EXPECT_TRUE(m_store->list_builds({})->empty());
}

TEST_F(TriggerHandlerTest, TriggeredBuildsCloneFromGithubUrl) {
    auto res = trigger("trig-tok", R"({"source_type":"Branch","source_name":"manual"})");
    ASSERT_EQ(res.status, 202u) << res.body;
    EXPECT_EQ(m_store->get_build(json(res)["builds"][0].get<storage::BuildId>())->clone_url,
              "https://github.com/acme/web.git");
}
