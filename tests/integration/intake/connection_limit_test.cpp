// server.max_connections over a real socket: connections beyond the cap are closed at once, and the service
// answers again as soon as the held ones end.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/integration/intake/http_client.hpp"
#include "tests/integration/intake/intake_harness.hpp"

using namespace hookyard;

namespace {

constexpr int k_limit = 4;
const std::string k_keep_alive_health = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

// A plain connection to 127.0.0.1:port that the test holds open.
int connect_to(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    const sockaddr_in addr{AF_INET, htons(static_cast<uint16_t>(port)), {htonl(INADDR_LOOPBACK)}, {}};
    EXPECT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    return fd;
}

// Sends one keep-alive request and reads until the answer (or the close); returns what arrived.
std::string exchange(int fd) {
    if (send(fd, k_keep_alive_health.data(), k_keep_alive_health.size(), MSG_NOSIGNAL) < 0) return "";
    std::string got;
    char buf[4096];
    while (got.find("\r\n\r\n") == std::string::npos || got.find("}") == std::string::npos) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0) break;
        const auto n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
}

}  // namespace

TEST(ConnectionLimit, ConnectionsOverTheCapAreClosedAndServiceResumesAfterward) {
    http::ServerOptions options;
    options.max_connections = k_limit;
    test::IntakeServer intake(options);
    std::vector<int> held;
    for (int i = 0; i < k_limit; ++i) {
        held.push_back(connect_to(intake.port()));
        // Answered, and kept alive: the session is counted while this socket stays open.
        EXPECT_NE(exchange(held.back()).find("200 OK"), std::string::npos);
    }
    for (int i = 0; i < 3; ++i) {
        const auto extra = test::raw_request(intake.port(), k_keep_alive_health, std::chrono::seconds(5));
        EXPECT_EQ(extra.status, 0) << "connection " << i + 1 << " over the cap was served";
    }
    for (int fd : held) close(fd);
    EXPECT_TRUE(test::wait_until([&] { return test::http_request(intake.port(), "GET", "/healthz").status == 200; },
                                 std::chrono::seconds(10)));
}
