// POST /api/v1/callbacks/{id}/{token}: Docker Hub's callback_url, verified by an HMAC of the build id.

#include "webhook/intake/callback_handler.hpp"

#include "tests/unit/intake/intake_fixture.hpp"
#include "util/signature.hpp"

using namespace hookyard;
using Request = http::ServerRequest;

namespace {

class CallbackHandlerTest : public test::IntakeTest {
protected:
    CallbackHandlerTest() : m_handler("s3cret", *m_store) {
        m_handler.add_routes(m_table);
        storage::NewBuild b;
        b.repository = "acme/web";
        b.ref = "refs/heads/main";
        b.image = "127.0.0.1:5000/acme/web";
        b.tags = {"latest"};
        auto stored = m_store->insert_builds({b});
        if (!stored) throw std::runtime_error(stored.error().message);
        m_id = stored->at(0).id;
    }

    http::ServerResponse callback(const std::string& id, const std::string& token, const std::string& body) {
        return call(Request{"POST", "/api/v1/callbacks/" + id + "/" + token, {}, body});
    }
    std::string token(storage::BuildId id) const { return util::callback_token("s3cret", id); }

    intake::CallbackHandler m_handler;
    storage::BuildId m_id = 0;
};

}  // namespace

TEST_F(CallbackHandlerTest, ARightTokenRecordsTheCallbackOnTheBuild) {
    auto r = callback(std::to_string(m_id), token(m_id),
                      R"({"state":"success","description":"tested","context":"ci","target_url":"https://ci/1"})");
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(json(r)["build"], m_id);
    EXPECT_EQ(json(r)["state"], "success");
    auto stored = m_store->list_callbacks(m_id);
    ASSERT_TRUE(stored.ok());
    ASSERT_EQ(stored->size(), 1u);
    EXPECT_EQ(stored->at(0).description, "tested");
    EXPECT_EQ(stored->at(0).target_url, "https://ci/1");
}

TEST_F(CallbackHandlerTest, WrongTokensAndUnknownBuildsAreRefused) {
    const std::string id = std::to_string(m_id);
    EXPECT_EQ(callback(id, "wrong", R"({"state":"success"})").status, 401u);
    EXPECT_EQ(callback(id, token(m_id + 1), R"({"state":"success"})").status, 401u);
    EXPECT_EQ(callback("abc", token(m_id), R"({"state":"success"})").status, 404u);
    EXPECT_EQ(callback("0", token(0), R"({"state":"success"})").status, 404u);
    EXPECT_EQ(callback("999", token(999), R"({"state":"success"})").status, 404u);
    EXPECT_EQ(call(Request{"POST", "/api/v1/callbacks/" + id, {}, "{}"}).status, 404u);
    EXPECT_TRUE(m_store->list_callbacks(m_id)->empty());
}

TEST_F(CallbackHandlerTest, BodiesOutsideDockerHubsLimitsAre400) {
    const std::string id = std::to_string(m_id);
    const std::string t = token(m_id);
    EXPECT_EQ(json(callback(id, t, "nope"))["error"],
              "the callback body must be a JSON object like {\"state\": \"success\"}");
    EXPECT_EQ(json(callback(id, t, R"({"state":"done"})"))["error"], "state must be success, failure or error");
    const std::string long_text(256, 'x');
    EXPECT_EQ(callback(id, t, R"({"state":"error","description":")" + long_text + "\"}").status, 400u);
    EXPECT_EQ(callback(id, t, R"({"state":"error","context":")" + long_text + "\"}").status, 400u);
    EXPECT_EQ(callback(id, t, R"({"state":"error","target_url":5})").status, 400u);
    EXPECT_TRUE(m_store->list_callbacks(m_id)->empty());
}

TEST_F(CallbackHandlerTest, AStateOfTheWrongJsonTypeIs400) {
    const std::string id = std::to_string(m_id);
    for (const char* body : {R"({"state":null})", R"({"state":1})", R"({"state":["success"]})"}) {
        auto res = callback(id, token(m_id), body);
        EXPECT_EQ(res.status, 400u) << body;
        EXPECT_EQ(json(res)["error"], "state must be success, failure or error") << body;
    }
    EXPECT_TRUE(m_store->list_callbacks(m_id)->empty());
}
