#include "tests/support/fault_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace hookyard::test {
namespace {

// Buffered reads from a socket; every call fails (returns false/nullopt) once the peer closes.
class Reader {
public:
    explicit Reader(int fd) : m_fd(fd) {}
    std::optional<std::string> until(const std::string& delimiter) {
        for (;;) {
            const auto pos = m_buf.find(delimiter);
            if (pos != std::string::npos) {
                std::string out = m_buf.substr(0, pos + delimiter.size());
                m_buf.erase(0, pos + delimiter.size());
                return out;
            }
            if (m_buf.size() > (1u << 20) || !fill()) return std::nullopt;
        }
    }
    // Passes exactly n bytes to `sink` (in pieces).
    template <class Sink>
    bool exactly(std::size_t n, Sink&& sink) {
        while (n > 0) {
            if (m_buf.empty() && !fill()) return false;
            const std::size_t take = std::min(n, m_buf.size());
            if (!sink(m_buf.data(), take)) return false;
            m_buf.erase(0, take);
            n -= take;
        }
        return true;
    }
    template <class Sink>
    void to_end(Sink&& sink) {
        while (!m_buf.empty() || fill()) {
            if (!sink(m_buf.data(), m_buf.size())) return;
            m_buf.clear();
        }
    }

private:
    bool fill() {
        char tmp[64 * 1024];
        const ssize_t n = ::recv(m_fd, tmp, sizeof tmp, 0);
        if (n <= 0) return false;
        m_buf.append(tmp, static_cast<std::size_t>(n));
        return true;
    }
    int m_fd;
    std::string m_buf;
};

bool send_all(int fd, const char* data, std::size_t n) {
    while (n > 0) {
        const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
        if (w <= 0) return false;
        data += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The value of header `name` (lower case) in a raw head, or "".
std::string header_value(const std::string& head, const std::string& name) {
    const std::string l = lower(head);
    const auto pos = l.find("\r\n" + name + ":");
    if (pos == std::string::npos) return "";
    const auto start = pos + 3 + name.size();
    const auto end = head.find("\r\n", start);
    std::string v = head.substr(start, end - start);
    v.erase(0, v.find_first_not_of(" \t"));
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
    return v;
}

void hard_close(int fd) {
    // SO_LINGER 0 turns close into a reset, as a crashed server or a middlebox would.
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
}

int connect_upstream(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Relays one response from upstream to the client; returns false when either connection must end.
bool relay_response(Reader& upstream, int client_fd, const std::string& method) {
    auto head = upstream.until("\r\n\r\n");
    if (!head || !send_all(client_fd, head->data(), head->size())) return false;
    auto forward = [&](const char* p, std::size_t n) { return send_all(client_fd, p, n); };
    const int status = std::atoi(head->c_str() + head->find(' ') + 1);
    if (method == "HEAD" || status == 204 || status == 304 || (status >= 100 && status < 200)) return true;
    const std::string length = header_value(*head, "content-length");
    if (!length.empty()) return upstream.exactly(std::stoull(length), forward);
    if (lower(header_value(*head, "transfer-encoding")).find("chunked") != std::string::npos) {
        for (;;) {
            auto line = upstream.until("\r\n");
            if (!line || !forward(line->data(), line->size())) return false;
            const std::size_t size = std::stoul(*line, nullptr, 16);
            if (size == 0) {
                auto end = upstream.until("\r\n");
                return end && forward(end->data(), end->size());
            }
            if (!upstream.exactly(size + 2, forward)) return false;
        }
    }
    upstream.to_end(forward);  // close-delimited body
    return false;
}

}  // namespace

FaultProxy::FaultProxy(int upstream_port, Plan plan) : m_upstream_port(upstream_port), m_plan(std::move(plan)) {
    m_listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(m_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(m_listen_fd, 64) != 0 ||
        ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        throw std::runtime_error(std::string("fault proxy cannot listen: ") + std::strerror(errno));
    }
    m_port = ntohs(addr.sin_port);
    m_acceptor = std::thread([this] { accept_loop(); });
}

FaultProxy::~FaultProxy() {
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

std::vector<std::string> FaultProxy::requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
}

void FaultProxy::accept_loop() {
    while (!m_stop) {
        const int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            if (m_stop) return;
            continue;
        }
        std::lock_guard lock(m_mutex);
        m_open_fds.push_back(fd);
        m_threads.emplace_back([this, fd] { serve(fd); });
    }
}

void FaultProxy::serve(int client_fd) {
    Reader client(client_fd);
    int upstream_fd = -1;
    std::optional<Reader> upstream;
    bool reset = false;
    while (!m_stop) {
        auto head = client.until("\r\n\r\n");
        if (!head) break;
        ProxiedRequest request;
        const auto sp1 = head->find(' ');
        const auto sp2 = head->find(' ', sp1 + 1);
        request.method = head->substr(0, sp1);
        request.target = head->substr(sp1 + 1, sp2 - sp1 - 1);
        FaultAction action;
        {
            std::lock_guard lock(m_mutex);
            request.index = m_requests.size();
            m_requests.push_back(request.method + " " + request.target);
            action = m_plan ? m_plan(request) : FaultAction::forward();
        }
        const std::string length = header_value(*head, "content-length");
        const std::size_t body_size = length.empty() ? 0 : std::stoull(length);
        if (action.kind == FaultAction::Kind::drop) {
            ++m_faults;
            reset = true;
            break;
        }
        if (action.kind == FaultAction::Kind::stall) {
            // Swallow whatever the client sends until it gives up and closes (or the proxy stops).
            ++m_faults;
            char sink[4096];
            while (::recv(client_fd, sink, sizeof sink, 0) > 0) {
            }
            break;
        }
        if (action.kind == FaultAction::Kind::respond) {
            ++m_faults;
            if (!client.exactly(body_size, [](const char*, std::size_t) { return true; })) break;
            std::string out = "HTTP/1.1 " + std::to_string(action.status) + " Injected\r\n";
            for (const auto& [k, v] : action.headers) out += k + ": " + v + "\r\n";
            if (!action.body.empty()) out += "Content-Type: application/json\r\n";
            out += "Content-Length: " + std::to_string(action.body.size()) + "\r\n\r\n" + action.body;
            if (!send_all(client_fd, out.data(), out.size())) break;
            continue;
        }
        if (upstream_fd < 0) {
            upstream_fd = connect_upstream(m_upstream_port);
            if (upstream_fd < 0) break;
            upstream.emplace(upstream_fd);
        }
        if (!send_all(upstream_fd, head->data(), head->size())) break;
        if (!client.exactly(body_size, [&](const char* p, std::size_t n) { return send_all(upstream_fd, p, n); }))
            break;
        if (!relay_response(*upstream, client_fd, request.method)) break;
    }
    if (upstream_fd >= 0) ::close(upstream_fd);
    std::lock_guard lock(m_mutex);
    m_open_fds.erase(std::remove(m_open_fds.begin(), m_open_fds.end(), client_fd), m_open_fds.end());
    if (reset) {
        hard_close(client_fd);
    } else {
        ::close(client_fd);
    }
}

}  // namespace hookyard::test
