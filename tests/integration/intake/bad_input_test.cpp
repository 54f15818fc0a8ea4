// Bad input over a real socket: each gets its status, and the server keeps serving afterwards.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/intake/http_client.hpp"
#include "tests/integration/intake/intake_harness.hpp"
#include "util/signature.hpp"

using namespace hookyard;

namespace {

class BadInput : public ::testing::Test {
protected:
    static http::ServerOptions options() {
        http::ServerOptions o;
        o.read_timeout = std::chrono::milliseconds(1500);  // short, so the slow-sender test is quick
        return o;
    }

    // After every bad request: the server still answers, and nothing was queued.
    void expect_still_serving() {
        auto health = test::http_request(m_intake.port(), "GET", "/healthz");
        EXPECT_EQ(health.status, 200) << "server stopped serving";
        auto good = test::post_github(m_intake.port(), test::k_secret, "push", "good-" + std::to_string(++m_good),
                                      test::k_sample_push);
        EXPECT_EQ(good.status, 202) << good.body;
    }

    static void expect_json_error(const test::Reply& r) {
        auto j = nlohmann::json::parse(r.body, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << r.body;
        EXPECT_TRUE(j.contains("error")) << r.body;
    }

    test::IntakeServer m_intake{options()};
    int m_good = 0;
};

}  // namespace

TEST_F(BadInput, WrongSignatureIs401) {
    auto r = test::post_github(m_intake.port(), "not the secret", "push", "b1", test::k_sample_push);
    EXPECT_EQ(r.status, 401);
    expect_json_error(r);
    expect_still_serving();
}

TEST_F(BadInput, MissingSignatureIs401) {
    auto r = test::post_github(m_intake.port(), "", "push", "b2", test::k_sample_push);
    EXPECT_EQ(r.status, 401);
    expect_json_error(r);
    expect_still_serving();
}

TEST_F(BadInput, Sha1OnlySignatureIs401) {
    auto r = test::http_request(m_intake.port(), "POST", "/hooks/github",
                                {{"X-GitHub-Event", "push"},
                                 {"X-GitHub-Delivery", "b3"},
                                 {"X-Hub-Signature", "sha1=0123456789abcdef0123456789abcdef01234567"}},
                                test::k_sample_push);
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(r.body.find("SHA-1"), std::string::npos);
    expect_still_serving();
}

TEST_F(BadInput, TruncatedJsonIs400) {
    auto r = test::post_github(m_intake.port(), test::k_secret, "push", "b4",
                               test::k_sample_push.substr(0, test::k_sample_push.size() / 2));
    EXPECT_EQ(r.status, 400);
    expect_json_error(r);
    expect_still_serving();
}

TEST_F(BadInput, DeeplyNestedJsonIs400) {
    const std::string body = std::string(200000, '[') + std::string(200000, ']');
    auto r = test::post_github(m_intake.port(), test::k_secret, "push", "b5", body);
    EXPECT_EQ(r.status, 400);
    expect_still_serving();
}

TEST_F(BadInput, InvalidUtf8Is400) {
    std::string body = test::k_sample_push;
    body.replace(body.find("master"), 6, "ma\xc3\x28ster");
    auto r = test::post_github(m_intake.port(), test::k_secret, "push", "b6", body);
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("UTF-8"), std::string::npos);
    expect_still_serving();
}

TEST_F(BadInput, AbsentEventHeaderIs400) {
    auto r = test::post_github(m_intake.port(), test::k_secret, "", "b7", test::k_sample_push);
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("X-GitHub-Event"), std::string::npos);
    expect_still_serving();
}

TEST_F(BadInput, BodyOver25MiBIs413) {
    const std::string body(26 * 1024 * 1024, 'x');
    auto r = test::post_github(m_intake.port(), test::k_secret, "push", "b8", body);
    EXPECT_EQ(r.status, 413);
    expect_json_error(r);
    expect_still_serving();
}

TEST_F(BadInput, HeadersOverTheLimitAre431) {
    auto r =
        test::http_request(m_intake.port(), "POST", "/hooks/github",
                           {{"X-GitHub-Event", "push"}, {"X-Padding", std::string(20000, 'a')}}, test::k_sample_push);
    EXPECT_EQ(r.status, 431);
    expect_still_serving();
}

TEST_F(BadInput, MalformedHttpIs400) {
    auto r = test::raw_request(m_intake.port(), "BREW /pot HTCPCP/1.0 nonsense\r\n\r\n");
    EXPECT_EQ(r.status, 400);
    expect_still_serving();
}

TEST_F(BadInput, WrongMethodAndUnknownPathGet405And404) {
    EXPECT_EQ(test::http_request(m_intake.port(), "GET", "/hooks/github").status, 405);
    EXPECT_EQ(test::http_request(m_intake.port(), "GET", "/wp-admin").status, 404);
    expect_still_serving();
}

TEST_F(BadInput, SlowSenderIsDisconnectedAtTheReadDeadline) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(m_intake.port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    // A slowloris: one header byte every 100 ms, far longer (20 s) than the 1.5 s read deadline.
    const std::string drip = "POST /hooks/github HTTP/1.1\r\nX-Slow: " + std::string(200, 'a');
    bool closed_by_server = false;
    for (std::size_t i = 0; i < drip.size() && !closed_by_server; ++i) {
        if (send(fd, &drip[i], 1, MSG_NOSIGNAL) != 1) {
            closed_by_server = true;
            break;
        }
        pollfd p{fd, POLLIN, 0};
        // The wait between bytes is the attack itself, not synchronisation.
        if (poll(&p, 1, 100) > 0) {
            char c;
            closed_by_server = recv(fd, &c, 1, 0) <= 0;
        }
    }
    close(fd);
    EXPECT_TRUE(closed_by_server) << "the server let a slow sender hold the connection for 20 s";
    expect_still_serving();
}

TEST_F(BadInput, ClientVanishingMidBodyLeavesServerServing) {
    auto r = test::raw_request(m_intake.port(),
                               "POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"ref\"",
                               std::chrono::milliseconds(200));
    EXPECT_EQ(r.status, 0);
    expect_still_serving();
}

TEST_F(BadInput, ManyConcurrentPushesAreAllAcceptedDurably) {
    std::vector<std::thread> threads;
    std::atomic<int> accepted{0};
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10; ++i) {
                auto r = test::post_github(m_intake.port(), test::k_secret, "push",
                                           "c-" + std::to_string(t) + "-" + std::to_string(i), test::k_sample_push);
                if (r.status == 202) ++accepted;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(accepted.load(), 80);
    EXPECT_EQ(m_intake.store().stats()->deliveries, 80);
}
