// The shared HTTP client against small loopback servers written here (plain sockets): keep-alive reuse,
// streamed request bodies, streamed responses, timeouts, refused connections, URL checks.

#include "http/client.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <functional>
#include <thread>

#include "tests/support/support.hpp"

namespace hookyard::test {
namespace {

// A loopback server that accepts connections and hands each to `handler(fd)` on its own thread.
class LoopbackServer {
public:
    explicit LoopbackServer(std::function<void(int)> handler) : m_handler(std::move(handler)) {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        EXPECT_EQ(::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        EXPECT_EQ(::listen(m_fd, 16), 0);
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len);
        m_port = ntohs(addr.sin_port);
        m_thread = std::thread([this] {
            for (;;) {
                const int c = ::accept(m_fd, nullptr, nullptr);
                if (c < 0) return;
                ++m_connections;
                m_workers.emplace_back([this, c] {
                    m_handler(c);
                    ::close(c);
                });
            }
        });
    }
    ~LoopbackServer() {
        ::shutdown(m_fd, SHUT_RDWR);
        ::close(m_fd);
        m_thread.join();
        for (auto& w : m_workers) w.join();
    }
    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(m_port) + path; }
    int connections() const { return m_connections.load(); }

private:
    std::function<void(int)> m_handler;
    int m_fd = -1;
    int m_port = 0;
    std::atomic<int> m_connections{0};
    std::thread m_thread;
    std::vector<std::thread> m_workers;
};

// Reads one request (head + Content-Length body) from fd; returns false at end of stream.
bool read_request(int fd, std::string& head, std::string& body) {
    std::string buf;
    char tmp[65536];
    while (buf.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0) return false;
        buf.append(tmp, static_cast<std::size_t>(n));
    }
    const auto end = buf.find("\r\n\r\n") + 4;
    head = buf.substr(0, end);
    body = buf.substr(end);
    const auto pos = head.find("Content-Length: ");
    const std::size_t length = pos == std::string::npos ? 0 : std::stoull(head.substr(pos + 16));
    while (body.size() < length) {
        const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0) return false;
        body.append(tmp, static_cast<std::size_t>(n));
    }
    return true;
}

void send_text(int fd, const std::string& s) { ::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }

// Answers every request on a connection with 200 and a body "<method> <body size>".
void echo_sizes(int fd) {
    std::string head, body;
    while (read_request(fd, head, body)) {
        const std::string answer = head.substr(0, head.find(' ')) + " " + std::to_string(body.size());
        send_text(fd, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(answer.size()) +
                          "\r\nX-Test: yes\r\n\r\n" + answer);
    }
}

http::Request get(const std::string& url) {
    http::Request r;
    r.url = url;
    return r;
}

std::unique_ptr<http::Client> client(http::ClientOptions options = {}) {
    auto c = http::make_client(options);
    EXPECT_TRUE(c.ok());
    return std::move(*c);
}

TEST(HttpClient, ReusesOneKeepAliveConnectionForSequentialRequests) {
    LoopbackServer server(echo_sizes);
    auto c = client();
    for (int i = 0; i < 5; ++i) {
        http::Request r;
        r.url = server.url("/x");
        auto response = c->request(r);
        ASSERT_TRUE(response.ok()) << response.error().message;
        EXPECT_EQ(response->status, 200);
        EXPECT_EQ(response->body, "GET 0");
        EXPECT_EQ(response->header("x-test"), "yes");
    }
    EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClient, StreamsAFileRangeAsTheBodyAndReportsEveryChunk) {
    LoopbackServer server(echo_sizes);
    TempDir dir;
    write_file(dir / "body", std::string(3'000'000, 'a') + std::string(1000, 'b'));
    http::ClientOptions options;
    options.stream_buffer_size = 64 * 1024;
    auto c = client(options);
    http::Request r;
    r.method = "PUT";
    r.url = server.url("/upload");
    r.body_file = http::FileRange{dir / "body", 1000, 2'999'500};
    std::uint64_t seen = 0, chunks = 0;
    r.on_body_sent = [&](std::uint64_t offset, std::string_view data) {
        EXPECT_EQ(offset, seen);
        seen += data.size();
        ++chunks;
    };
    auto response = c->request(r);
    ASSERT_TRUE(response.ok()) << response.error().message;
    EXPECT_EQ(response->body, "PUT 2999500");
    EXPECT_EQ(seen, 2'999'500u);
    EXPECT_GT(chunks, 40u);  // sent in buffer-sized pieces, never as one block
}

TEST(HttpClient, StreamsTheResponseBodyToACallback) {
    LoopbackServer server([](int fd) {
        std::string head, body;
        if (!read_request(fd, head, body)) return;
        send_text(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    });
    auto c = client();
    http::Request r;
    r.url = server.url("/");
    std::string streamed;
    r.on_response_data = [&](std::string_view chunk) -> util::Status {
        streamed += chunk;
        return {};
    };
    auto response = c->request(r);
    ASSERT_TRUE(response.ok()) << response.error().message;
    EXPECT_EQ(streamed, "hello world");
    EXPECT_TRUE(response->body.empty());
}

TEST(HttpClient, ReplacesAPooledConnectionTheServerClosed) {
    // Serves one request per connection, then closes without saying so (no Connection: close).
    LoopbackServer server([](int fd) {
        std::string head, body;
        if (read_request(fd, head, body)) send_text(fd, "HTTP/1.1 204 No Content\r\n\r\n");
    });
    auto c = client();
    for (int i = 0; i < 3; ++i) {
        http::Request r;
        r.url = server.url("/");
        auto response = c->request(r);
        ASSERT_TRUE(response.ok()) << response.error().message;
        EXPECT_EQ(response->status, 204);
    }
    EXPECT_EQ(server.connections(), 3);
}

TEST(HttpClient, ReadTimeoutIsReportedAsTimeout) {
    std::atomic<bool> release{false};
    LoopbackServer server([&](int fd) {
        std::string head, body;
        read_request(fd, head, body);
        wait_until([&] { return release.load(); }, std::chrono::seconds(10));
    });
    http::ClientOptions options;
    options.io_timeout = std::chrono::milliseconds(200);
    auto c = client(options);
    http::Request r;
    r.url = server.url("/slow");
    auto response = c->request(r);
    release = true;
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().kind, util::ErrorKind::timeout);
    EXPECT_NE(response.error().message.find("timed out"), std::string::npos) << response.error().message;
}

TEST(HttpClient, RefusedConnectionIsTransient) {
    const int port = free_port();
    auto response = client()->request(get("http://127.0.0.1:" + std::to_string(port) + "/"));
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().kind, util::ErrorKind::transient);
    EXPECT_NE(response.error().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos);
}

TEST(HttpClient, OversizedBufferedResponseIsRefused) {
    LoopbackServer server([](int fd) {
        std::string head, body;
        if (read_request(fd, head, body))
            send_text(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x'));
    });
    http::Request r;
    r.url = server.url("/");
    r.max_response_body = 10;
    auto response = client()->request(r);
    ASSERT_FALSE(response.ok());
    EXPECT_NE(response.error().message.find("larger than 10 bytes"), std::string::npos);
}

TEST(HttpClient, RejectsBadUrlsAndEmbeddedCredentials) {
    auto c = client();
    auto bad = c->request(get("ftp://example.com/x"));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(bad.error().message.find("unsupported URL scheme 'ftp'"), std::string::npos);
    auto creds = c->request(get("https://user:secret@example.com/x"));
    ASSERT_FALSE(creds.ok());
    EXPECT_EQ(creds.error().message.find("secret"), std::string::npos);
}

TEST(HttpClient, MissingBodyFileIsInvalidInput) {
    LoopbackServer server(echo_sizes);
    http::Request r;
    r.method = "PUT";
    r.url = server.url("/");
    r.body_file = http::FileRange{"/nonexistent/file", 0, std::nullopt};
    auto response = client()->request(r);
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(response.error().message.find("/nonexistent/file"), std::string::npos);
}

TEST(HttpEncoding, Base64RoundTripsAndBasicAuthorizationMatchesRfc7617) {
    EXPECT_EQ(http::base64_encode(""), "");
    EXPECT_EQ(http::base64_encode("f"), "Zg==");
    EXPECT_EQ(http::base64_encode("fo"), "Zm8=");
    EXPECT_EQ(http::base64_encode("foo"), "Zm9v");
    EXPECT_EQ(http::base64_decode("Zm9vYg=="), "foob");
    EXPECT_EQ(http::base64_decode("not base64!"), std::nullopt);
    EXPECT_EQ(http::basic_authorization("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

}  // namespace
}  // namespace hookyard::test
