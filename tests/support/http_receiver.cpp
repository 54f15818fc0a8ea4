#include "tests/support/http_receiver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "tests/support/support.hpp"

namespace hookyard::test {
namespace {

bool read_request(int fd, ReceivedRequest& out) {
    std::string data;
    char buf[8192];
    std::size_t header_end = std::string::npos;
    while (header_end == std::string::npos) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return false;
        data.append(buf, static_cast<std::size_t>(n));
        header_end = data.find("\r\n\r\n");
    }
    const std::string head = data.substr(0, header_end);
    std::size_t pos = head.find("\r\n");
    const std::string request_line = head.substr(0, pos);
    const auto sp1 = request_line.find(' ');
    const auto sp2 = request_line.find(' ', sp1 + 1);
    out.method = request_line.substr(0, sp1);
    out.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    while (pos != std::string::npos && pos < head.size()) {
        const auto next = head.find("\r\n", pos + 2);
        const std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
        const auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string name = line.substr(0, colon);
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            out.headers[name] = value;
        }
        pos = next;
    }
    const std::size_t length = out.headers.count("content-length") ? std::stoul(out.headers["content-length"]) : 0;
    out.body = data.substr(header_end + 4);
    while (out.body.size() < length) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return false;
        out.body.append(buf, static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace

HttpReceiver::HttpReceiver() {
    m_listen_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(m_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(m_listen_fd, 64) != 0) {
        throw std::runtime_error("HttpReceiver: cannot listen");
    }
    socklen_t len = sizeof addr;
    ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    m_port = ntohs(addr.sin_port);
    m_thread = std::thread([this] { serve(); });
}

HttpReceiver::~HttpReceiver() {
    m_stop = true;
    m_thread.join();
    for (auto& t : m_workers) t.join();
    ::close(m_listen_fd);
}

std::string HttpReceiver::url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(m_port) + path;
}

void HttpReceiver::script(std::vector<int> statuses) {
    std::lock_guard lock(m_mutex);
    m_script.assign(statuses.begin(), statuses.end());
}

void HttpReceiver::set_default_status(int status, std::string body) {
    std::lock_guard lock(m_mutex);
    m_default_status = status;
    m_default_body = std::move(body);
}

void HttpReceiver::set_delay(std::chrono::milliseconds delay) {
    std::lock_guard lock(m_mutex);
    m_delay = delay;
}

std::vector<ReceivedRequest> HttpReceiver::requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
}

std::size_t HttpReceiver::count() const {
    std::lock_guard lock(m_mutex);
    return m_requests.size();
}

bool HttpReceiver::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
    return wait_until([&] { return count() >= n; }, timeout);
}

void HttpReceiver::serve() {
    while (!m_stop) {
        pollfd p{m_listen_fd, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        const int fd = ::accept(m_listen_fd, nullptr, nullptr);
        if (fd < 0) continue;
        m_workers.emplace_back([this, fd] { handle(fd); });
    }
}

void HttpReceiver::handle(int fd) {
    // One request per connection keeps the receiver simple; it answers Connection: close.
    ReceivedRequest req;
    if (!read_request(fd, req)) {
        ::close(fd);
        return;
    }
    int status;
    std::string body;
    std::chrono::milliseconds delay;
    {
        std::lock_guard lock(m_mutex);
        m_requests.push_back(req);
        if (!m_script.empty()) {
            status = m_script.front();
            m_script.pop_front();
        } else {
            status = m_default_status;
        }
        body = m_default_body;
        delay = m_delay;
    }
    if (delay.count() > 0) {
        // A slow receiver: hold the answer, but give up early when the test ends.
        wait_until([&] { return m_stop.load(); }, delay);
    }
    const std::string response = "HTTP/1.1 " + std::to_string(status) +
                                 " Scripted\r\nContent-Type: application/json\r\n"
                                 "Content-Length: " +
                                 std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
    ::close(fd);
}

}  // namespace hookyard::test
