// The shared HTTP client against the test server of tests/support: keep-alive reuse,
// streamed request bodies, streamed responses, timeouts, refused connections, URL checks.

#include "http/client.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/http_test_server.hpp"
#include "tests/support/support.hpp"

namespace hookyard::test {
namespace {

using test::HttpTestServer;
using test::ReceivedRequest;
using test::ServerAction;

// Answers every request with 200 and a body "<method> <body size>".
ServerAction echo_sizes(const ReceivedRequest& r) {
    const std::string size = r.header("content-length").empty() ? "0" : r.header("content-length");
    return ServerAction::respond(200, r.method + " " + size, {{"X-Test", "yes"}});
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
    HttpTestServer server(echo_sizes);
    auto c = client();
    for (int i = 0; i < 5; ++i) {
        auto response = c->request(get(server.url("/x")));
        ASSERT_TRUE(response.ok()) << response.error().message;
        EXPECT_EQ(response->status, 200);
        EXPECT_EQ(response->body, "GET 0");
        EXPECT_EQ(response->header("x-test"), "yes");
    }
    EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClient, StreamsAFileRangeAsTheBodyAndReportsEveryChunk) {
    HttpTestServer server(echo_sizes);
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
    ASSERT_EQ(server.count(), 1u);
    EXPECT_TRUE(server.requests()[0].body == std::string(2'999'000, 'a') + std::string(500, 'b'))
        << "the server received exactly the range";
    EXPECT_EQ(seen, 2'999'500u);
    EXPECT_GT(chunks, 40u);  // sent in buffer-sized pieces, never as one block
}

TEST(HttpClient, StreamsTheResponseBodyToACallback) {
    HttpTestServer server([](const ReceivedRequest&) {
        return ServerAction::raw(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", true);
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
    HttpTestServer server(
        [](const ReceivedRequest&) { return ServerAction::raw("HTTP/1.1 204 No Content\r\n\r\n", true); });
    auto c = client();
    for (int i = 0; i < 3; ++i) {
        auto response = c->request(get(server.url("/")));
        ASSERT_TRUE(response.ok()) << response.error().message;
        EXPECT_EQ(response->status, 204);
    }
    EXPECT_EQ(server.connections(), 3);
}

TEST(HttpClient, ReadTimeoutIsReportedAsTimeout) {
    HttpTestServer server([](const ReceivedRequest&) { return ServerAction::stall(); });
    http::ClientOptions options;
    options.io_timeout = std::chrono::milliseconds(200);
    auto c = client(options);
    http::Request r;
    r.url = server.url("/slow");
    auto response = c->request(r);
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
    HttpTestServer server([](const ReceivedRequest&) { return ServerAction::respond(200, std::string(100, 'x')); });
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

TEST(HttpClient, AHeaderOrMethodThatWouldSplitTheRequestIsRefusedUnsent) {
    HttpTestServer server(echo_sizes);
    auto c = client();
    auto injected = get(server.url("/x"));
    injected.headers.emplace_back("X-Token", "s3cret\r\nX-Injected: 1");
    auto response = c->request(injected);
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(response.error().message.find("X-Token"), std::string::npos) << response.error().message;
    EXPECT_EQ(response.error().message.find("s3cret"), std::string::npos) << "a header's value is never shown";
    auto bad_name = get(server.url("/x"));
    bad_name.headers.emplace_back("X-A: b\r\nX-C", "d");
    EXPECT_FALSE(c->request(bad_name).ok());
    auto bad_method = get(server.url("/x"));
    bad_method.method = "GET /other HTTP/1.1\r\nX:";
    EXPECT_FALSE(c->request(bad_method).ok());
    EXPECT_TRUE(server.requests().empty()) << "nothing reached the server";
    auto fine = get(server.url("/x"));
    fine.headers.emplace_back("X-Token", "a value: with colons and spaces");
    ASSERT_TRUE(c->request(fine).ok());
    ASSERT_EQ(server.requests().size(), 1u);
    EXPECT_EQ(server.requests()[0].header("x-token"), "a value: with colons and spaces");
}

TEST(HttpClient, MissingBodyFileIsInvalidInput) {
    HttpTestServer server(echo_sizes);
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
