// GET /api/v1/builds/{id}/log?follow=1 over a real socket: a chunked body that grows with the log and ends
// when the build is terminal.

#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>

#include "tests/integration/intake/http_client.hpp"
#include "tests/integration/intake/intake_harness.hpp"

using namespace hookyard;

namespace {

// Decodes a chunked transfer-encoded body; "" when malformed.
std::string dechunk(const std::string& raw) {
    std::string out;
    std::size_t pos = 0;
    for (;;) {
        const auto eol = raw.find("\r\n", pos);
        if (eol == std::string::npos) return "";
        const auto size = std::stoul(raw.substr(pos, eol - pos), nullptr, 16);
        if (size == 0) return out;
        out += raw.substr(eol + 2, size);
        pos = eol + 2 + size + 2;
    }
}

}  // namespace

TEST(LogFollow, StreamsNewLinesUntilTheBuildFinishes) {
    test::IntakeServer intake;
    storage::NewBuild nb;
    nb.repository = "Codertocat/Hello-World";
    nb.ref = "refs/heads/master";
    auto builds = intake.store().insert_builds({nb});
    ASSERT_TRUE(builds.ok());
    const auto id = builds->at(0).id;
    ASSERT_TRUE(intake.store().append_log(id, "STEP 1/2: FROM scratch\n").ok());
    ASSERT_TRUE(intake.store().claim_next_queued().ok());

    auto reply = std::async(std::launch::async, [&] {
        return test::http_request(intake.port(), "GET", "/api/v1/builds/" + std::to_string(id) + "/log?follow=1",
                                  {{"Authorization", std::string("Bearer ") + test::k_api_token}});
    });
    // The follower is connected and has the first line before the build goes on.
    ASSERT_TRUE(test::wait_until([&] { return intake.server().answered() >= 1; }, std::chrono::seconds(10)));
    ASSERT_EQ(reply.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout)
        << "the stream ended while the build was still running";
    ASSERT_TRUE(intake.store().append_log(id, "STEP 2/2: COPY busybox /bin/\n").ok());
    ASSERT_TRUE(intake.store().finish_build(id, storage::BuildState::succeeded, "sha256:abc", "").ok());

    auto r = reply.get();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
    EXPECT_EQ(dechunk(r.body), "STEP 1/2: FROM scratch\nSTEP 2/2: COPY busybox /bin/\n");
}
