#include "tests/support/http_test_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "tests/support/http_wire.hpp"
#include "util/signature.hpp"

namespace hookyard::test {
namespace {

using Clock = std::chrono::steady_clock;

// Parses a complete response out of `data`; false while more bytes are needed.
bool parse(const std::string& data, bool eof, Reply& out) {
    const auto end = data.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    Reply r;
    const auto sp = data.find(' ');
    r.status = std::atoi(data.c_str() + sp + 1);
    r.headers = parse_header_fields(std::string_view(data).substr(0, end + 2));
    const auto cl = r.headers.find("content-length");
    if (cl != r.headers.end()) {
        const auto len = std::stoul(cl->second);
        if (data.size() < end + 4 + len) return false;
        r.body = data.substr(end + 4, len);
    } else {
        if (!eof) return false;
        r.body = data.substr(end + 4);
    }
    out = std::move(r);
    return true;
}

}  // namespace

Reply raw_request(int port, const std::string& raw, std::chrono::milliseconds timeout) {
    Reply reply;
    const int fd = connect_loopback(port);
    if (fd < 0) return reply;
    const auto deadline = Clock::now() + timeout;
    std::size_t sent = 0;
    std::string data;
    bool eof = false;
    while (Clock::now() < deadline) {
        pollfd p{fd, static_cast<short>(POLLIN | (sent < raw.size() ? POLLOUT : 0)), 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (poll(&p, 1, static_cast<int>(std::max<long>(1, left))) <= 0) continue;
        if ((p.revents & POLLOUT) && sent < raw.size()) {
            const auto n = send(fd, raw.data() + sent, std::min<std::size_t>(raw.size() - sent, 1 << 20), MSG_NOSIGNAL);
            if (n > 0)
                sent += static_cast<std::size_t>(n);
            else
                sent = raw.size();  // the server stopped reading; look for its answer
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            char buf[65536];
            const auto n = recv(fd, buf, sizeof buf, 0);
            if (n <= 0)
                eof = true;
            else
                data.append(buf, static_cast<std::size_t>(n));
            if (parse(data, eof, reply) || eof) break;
        }
    }
    close(fd);
    return reply;
}

std::string raw_exchange(int port, const std::string& raw, std::chrono::milliseconds timeout) {
    const int fd = connect_loopback(port);
    if (fd < 0) return "";
    if (send(fd, raw.data(), raw.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(raw.size())) {
        close(fd);
        return "";
    }
    const auto deadline = Clock::now() + timeout;
    std::string data;
    while (Clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        char buf[65536];
        const auto n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        data.append(buf, static_cast<std::size_t>(n));
    }
    close(fd);
    return data;
}

Reply http_request(int port, const std::string& method, const std::string& target,
                   const std::map<std::string, std::string>& headers, const std::string& body) {
    std::string raw = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (const auto& [k, v] : headers) raw += k + ": " + v + "\r\n";
    raw += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return raw_request(port, raw);
}

Reply post_github(int port, const std::string& secret, const std::string& event, const std::string& delivery,
                  const std::string& body, const std::string& content_type) {
    std::map<std::string, std::string> h{
        {"Content-Type", content_type}, {"X-GitHub-Delivery", delivery}, {"User-Agent", "GitHub-Hookshot/test"}};
    if (!event.empty()) h["X-GitHub-Event"] = event;
    if (!secret.empty()) h["X-Hub-Signature-256"] = "sha256=" + util::hmac_sha256_hex(secret, body);
    return http_request(port, "POST", "/hooks/github", h, body);
}

}  // namespace hookyard::test
