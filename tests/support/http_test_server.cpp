#include "tests/support/http_test_server.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "tests/support/http_wire.hpp"
#include "tests/support/support.hpp"

namespace hookyard::test {
namespace {

ReceivedRequest parse_head(const std::string& head) {
    ReceivedRequest r;
    const auto sp1 = head.find(' ');
    const auto sp2 = head.find(' ', sp1 + 1);
    r.method = head.substr(0, sp1);
    r.target = head.substr(sp1 + 1, sp2 - sp1 - 1);
    r.headers = parse_header_fields(head);
    return r;
}

std::size_t content_length(const ReceivedRequest& r) {
    const std::string length = r.header("content-length");
    return length.empty() ? 0 : std::stoull(length);
}

// The upstream connection of one client connection, opened at its first forwarded request.
struct Upstream {
    int fd = -1;
    std::optional<SocketReader> reader;
    ~Upstream() {
        if (fd >= 0) ::close(fd);
    }
};

// Relays one response from upstream to the client; returns false when either connection must end.
bool relay_response(SocketReader& upstream, int client_fd, const std::string& method) {
    auto head = upstream.until("\r\n\r\n");
    if (!head || !send_all(client_fd, *head)) return false;
    auto pass = [&](const char* p, std::size_t n) { return send_all(client_fd, std::string_view(p, n)); };
    const int status = std::atoi(head->c_str() + head->find(' ') + 1);
    if (method == "HEAD" || status == 204 || status == 304 || (status >= 100 && status < 200)) return true;
    const auto fields = parse_header_fields(*head);
    if (fields.count("content-length")) return upstream.exactly(std::stoull(fields.at("content-length")), pass);
    const auto te = fields.find("transfer-encoding");
    if (te != fields.end() && te->second.find("chunked") != std::string::npos) {
        for (;;) {
            auto line = upstream.until("\r\n");
            if (!line || !pass(line->data(), line->size())) return false;
            const std::size_t size = std::stoul(*line, nullptr, 16);
            if (size == 0) {
                auto end = upstream.until("\r\n");
                return end && pass(end->data(), end->size());
            }
            if (!upstream.exactly(size + 2, pass)) return false;
        }
    }
    upstream.to_end(pass);  // close-delimited body
    return false;
}

// Forwards one request (head read, body still in `client`) upstream and relays the answer.
bool forward(SocketReader& client, int client_fd, Upstream& up, int upstream_port, const std::string& head,
             const ReceivedRequest& request) {
    if (up.fd < 0) {
        up.fd = connect_loopback(upstream_port);
        if (up.fd < 0) return false;
        up.reader.emplace(up.fd);
    }
    if (!send_all(up.fd, head)) return false;
    auto pass = [&](const char* p, std::size_t n) { return send_all(up.fd, std::string_view(p, n)); };
    if (!client.exactly(content_length(request), pass)) return false;
    return relay_response(*up.reader, client_fd, request.method);
}

}  // namespace

HttpTestServer::HttpTestServer(int upstream_port, Plan plan) : m_plan(std::move(plan)), m_upstream_port(upstream_port) {
    const Listener l = listen_loopback("HttpTestServer");
    m_listen_fd = l.fd;
    m_port = l.port;
    m_acceptor = std::thread([this] { accept_loop(); });
}

HttpTestServer::~HttpTestServer() {
    m_stop = true;
    ::shutdown(m_listen_fd, SHUT_RDWR);
    m_acceptor.join();
    {
        std::lock_guard lock(m_mutex);
        for (int fd : m_open_fds) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : m_threads) t.join();
    ::close(m_listen_fd);
}

void HttpTestServer::script(std::vector<int> statuses) {
    std::lock_guard lock(m_mutex);
    m_script.assign(statuses.begin(), statuses.end());
}

void HttpTestServer::set_default_status(int status, std::string body) {
    std::lock_guard lock(m_mutex);
    m_default_status = status;
    m_default_body = std::move(body);
}

void HttpTestServer::set_delay(std::chrono::milliseconds delay) {
    std::lock_guard lock(m_mutex);
    m_delay = delay;
}

std::vector<ReceivedRequest> HttpTestServer::requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
}

std::size_t HttpTestServer::count() const {
    std::lock_guard lock(m_mutex);
    return m_requests.size();
}

bool HttpTestServer::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
    return wait_until([&] { return count() >= n; }, timeout);
}

void HttpTestServer::accept_loop() {
    while (!m_stop) {
        const int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            if (m_stop) return;
            continue;
        }
        ++m_connections;
        std::lock_guard lock(m_mutex);
        m_open_fds.push_back(fd);
        m_threads.emplace_back([this, fd] { serve(fd); });
    }
}

ServerAction HttpTestServer::decide(ReceivedRequest& request) {
    // One plan call at a time, in index order (plans keep counters without locks of their own).
    std::lock_guard plan_lock(m_plan_mutex);
    {
        std::lock_guard lock(m_mutex);
        request.index = m_next_index++;
    }
    const ServerAction action = m_plan ? m_plan(request) : scripted();
    if (action.kind != ServerAction::Kind::forward) ++m_faults;
    return action;
}

ServerAction HttpTestServer::scripted() {
    std::lock_guard lock(m_mutex);
    int status = m_default_status;
    if (!m_script.empty()) {
        status = m_script.front();
        m_script.pop_front();
    }
    auto action = ServerAction::respond(status, m_default_body, {{"Content-Type", "application/json"}});
    action.close = true;
    action.delay = m_delay;
    return action;
}

void HttpTestServer::record(ReceivedRequest request) {
    std::lock_guard lock(m_mutex);
    m_requests.push_back(std::move(request));
}

bool HttpTestServer::answer(int fd, const ServerAction& action) {
    if (action.kind == ServerAction::Kind::raw) return send_all(fd, action.body);
    if (action.delay.count() > 0) {
        // A slow peer: hold the answer, but give up early when the test ends.
        wait_until([&] { return m_stop.load(); }, action.delay);
    }
    std::string out = "HTTP/1.1 " + std::to_string(action.status) + " Test\r\n";
    bool typed = false;
    for (const auto& [name, value] : action.headers) {
        out += name + ": " + value + "\r\n";
        typed = typed || name == "Content-Type";
    }
    if (!typed && !action.body.empty()) out += "Content-Type: application/json\r\n";
    if (action.close) out += "Connection: close\r\n";
    out += "Content-Length: " + std::to_string(action.body.size()) + "\r\n\r\n" + action.body;
    return send_all(fd, out);
}

void HttpTestServer::serve(int fd) {
    SocketReader client(fd);
    Upstream upstream;
    bool reset = false;
    while (!m_stop) {
        auto head = client.until("\r\n\r\n");
        if (!head) break;
        ReceivedRequest request = parse_head(*head);
        const ServerAction action = decide(request);
        if (action.kind == ServerAction::Kind::drop || action.kind == ServerAction::Kind::stall) {
            record(std::move(request));
            reset = action.kind == ServerAction::Kind::drop;
            char sink[4096];
            while (!reset && ::recv(fd, sink, sizeof sink, 0) > 0) {
            }
            break;
        }
        if (action.kind == ServerAction::Kind::forward) {
            record(request);
            if (!forward(client, fd, upstream, m_upstream_port, *head, request)) break;
            continue;
        }
        auto append = [&](const char* p, std::size_t n) { return request.body.append(p, n), true; };
        if (!client.exactly(content_length(request), append)) break;
        record(request);
        if (!answer(fd, action) || action.close) break;
    }
    std::lock_guard lock(m_mutex);
    m_open_fds.erase(std::remove(m_open_fds.begin(), m_open_fds.end(), fd), m_open_fds.end());
    if (reset) {
        reset_close(fd);
    } else {
        ::close(fd);
    }
}

}  // namespace hookyard::test
