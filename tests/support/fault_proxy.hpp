#pragma once
// An HTTP/1.1-aware TCP proxy on 127.0.0.1 that injects faults on a schedule: for each request it either
// forwards it to the upstream server, answers it itself (e.g. 500, 429 with Retry-After, a registry
// error body), drops the connection (a reset before the body is read), or stalls (never answers, so the
// client's timeout fires). Requests are counted, so tests
// can also assert what a client sent. Plain sockets and one thread per connection.

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace hookyard::test {

struct ProxiedRequest {
    std::size_t index = 0;  // 0-based, in arrival order over all connections
    std::string method;
    std::string target;  // origin-form path?query
};

struct FaultAction {
    enum class Kind { forward, respond, drop, stall };
    Kind kind = Kind::forward;
    int status = 0;  // respond: the status and body; headers besides Content-Length may be given
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    static FaultAction forward() { return {}; }
    static FaultAction drop() { return {Kind::drop, 0, {}, ""}; }
    static FaultAction stall() { return {Kind::stall, 0, {}, ""}; }
    static FaultAction respond(int status, std::string body = "",
                               std::vector<std::pair<std::string, std::string>> headers = {}) {
        return {Kind::respond, status, std::move(headers), std::move(body)};
    }
};

class FaultProxy {
public:
    using Plan = std::function<FaultAction(const ProxiedRequest&)>;

    // Listens on a free port at once and forwards to 127.0.0.1:upstream_port, asking `plan` per request.
    // `plan` is called from connection threads (one at a time: calls are serialised).
    FaultProxy(int upstream_port, Plan plan);
    ~FaultProxy();
    FaultProxy(const FaultProxy&) = delete;
    FaultProxy& operator=(const FaultProxy&) = delete;

    int port() const { return m_port; }
    std::string host() const { return "127.0.0.1:" + std::to_string(m_port); }
    // Every request seen, as "METHOD target", in arrival order.
    std::vector<std::string> requests() const;
    // Requests answered or dropped by the proxy instead of forwarded.
    int faults_injected() const { return m_faults.load(); }

private:
    void accept_loop();
    void serve(int client_fd);

    int m_upstream_port;
    Plan m_plan;
    int m_listen_fd = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_faults{0};
    mutable std::mutex m_mutex;
    std::vector<std::string> m_requests;
    std::vector<int> m_open_fds;
    std::vector<std::thread> m_threads;
    std::thread m_acceptor;
};

}  // namespace hookyard::test
