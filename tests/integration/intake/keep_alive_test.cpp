// HTTP/1.1 keep-alive on the real transport: several requests, pipelined, on one connection.

#include <gtest/gtest.h>

#include "tests/integration/intake/http_client.hpp"
#include "tests/integration/intake/intake_harness.hpp"
#include "util/signature.hpp"

using namespace hookyard;

namespace {

std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
    return n;
}

}  // namespace

TEST(KeepAlive, AnswersPipelinedRequestsOnOneConnectionInOrder) {
    test::IntakeServer intake;
    const std::string body = R"({"ref":"refs/heads/master","after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246",)"
                             R"("repository":{"full_name":"Codertocat/Hello-World"}})";
    auto push = [&](const std::string& delivery, bool last) {
        return "POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\n"
               "X-GitHub-Delivery: " +
               delivery + "\r\nX-Hub-Signature-256: sha256=" + util::hmac_sha256_hex(test::k_secret, body) +
               "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + (last ? "Connection: close\r\n" : "") +
               "\r\n" + body;
    };
    const std::string out = test::raw_exchange(
        intake.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + push("ka-1", false) + push("ka-1", true));
    EXPECT_EQ(count(out, "HTTP/1.1 200 OK"), 2u) << out;  // healthz, then the duplicate
    EXPECT_EQ(count(out, "HTTP/1.1 202 Accepted"), 1u) << out;
    EXPECT_LT(out.find("202 Accepted"), out.find("\"duplicate\":true")) << "answers out of order: " << out;
    EXPECT_EQ(intake.server().answered(), 3u);
}
