#pragma once
// THE HTTP test server: a real HTTP/1.1 server on 127.0.0.1 (plain sockets, one thread per connection)
// for tests that need a peer for hookyard's outbound requests (webhook subscribers, the GitHub statuses
// API, a registry behind a fault-injecting proxy, a server that never answers). Per request, a plan
// decides what happens: answer, forward to an upstream server, reset the connection, stall (never answer,
// so the client's timeout fires) or write raw bytes. Without a plan it answers from a script: a queue of
// statuses to return first, then the default status. Every request is recorded, so tests can assert what
// a client sent.

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace hookyard::test {

struct ReceivedRequest {
    std::size_t index = 0;  // 0-based, in arrival order over all connections
    std::string method;
    std::string target;                          // origin-form path?query
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;  // read only for answered requests (respond, raw); empty when forwarded, dropped, stalled
    std::string header(const std::string& lower_name) const {
        const auto it = headers.find(lower_name);
        return it == headers.end() ? "" : it->second;
    }
};

// What the server does with one request (chosen from its head: the body is not read yet).
struct ServerAction {
    enum class Kind { respond, forward, drop, stall, raw };
    Kind kind = Kind::respond;
    int status = 200;  // respond: status, headers (besides Content-Length) and body
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;                    // raw: the bytes written as they are
    bool close = false;                  // respond: send Connection: close and close; raw: close after writing
    std::chrono::milliseconds delay{0};  // respond: answer this much later (a slow peer)

    static ServerAction respond(int status, std::string body = "",
                                std::vector<std::pair<std::string, std::string>> headers = {}) {
        return {Kind::respond, status, std::move(headers), std::move(body), false, {}};
    }
    static ServerAction forward() { return {Kind::forward, 0, {}, "", false, {}}; }
    // A reset before the body is read.
    static ServerAction drop() { return {Kind::drop, 0, {}, "", false, {}}; }
    // Swallows whatever the client sends until it gives up and closes (or the server stops).
    static ServerAction stall() { return {Kind::stall, 0, {}, "", false, {}}; }
    static ServerAction raw(std::string bytes, bool close_after) {
        return {Kind::raw, 0, {}, std::move(bytes), close_after, {}};
    }
};

class HttpTestServer {
public:
    // Called with each request's head (no body), one call at a time, from connection threads.
    using Plan = std::function<ServerAction(const ReceivedRequest&)>;

    // Listens on a free port at once; serves on background threads until destroyed. Without a plan, the
    // script answers (one request per connection, Connection: close).
    explicit HttpTestServer(Plan plan = {}) : HttpTestServer(0, std::move(plan)) {}
    // A proxy in front of 127.0.0.1:upstream_port: ServerAction::forward() sends requests there.
    HttpTestServer(int upstream_port, Plan plan);
    ~HttpTestServer();
    HttpTestServer(const HttpTestServer&) = delete;
    HttpTestServer& operator=(const HttpTestServer&) = delete;

    int port() const { return m_port; }
    std::string host() const { return "127.0.0.1:" + std::to_string(m_port); }
    std::string url(const std::string& path = "/") const { return "http://" + host() + path; }

    // The script (used without a plan): statuses for the next requests, in order (e.g. {500, 500} = fail
    // twice); afterwards the default status and body; every answer delayed by `delay` (a slow receiver).
    void script(std::vector<int> statuses);
    void set_default_status(int status, std::string body = "{}");
    void set_delay(std::chrono::milliseconds delay);

    // Every request handled so far (an answered one once its body was read), in that order.
    std::vector<ReceivedRequest> requests() const;
    std::size_t count() const;
    // Polls until at least `n` requests arrived; returns whether they did within `timeout`.
    bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const;
    // Connections accepted so far.
    int connections() const { return m_connections.load(); }
    // Requests the plan did not forward (answered, dropped, stalled, raw) while an upstream was given.
    int faults_injected() const { return m_faults.load(); }

private:
    void accept_loop();
    void serve(int fd);
    ServerAction decide(ReceivedRequest& request);
    ServerAction scripted();
    void record(ReceivedRequest request);
    bool answer(int fd, const ServerAction& action);

    Plan m_plan;
    int m_upstream_port;
    int m_listen_fd = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_connections{0};
    std::atomic<int> m_faults{0};
    std::mutex m_plan_mutex;
    mutable std::mutex m_mutex;
    std::size_t m_next_index = 0;
    std::vector<ReceivedRequest> m_requests;
    std::deque<int> m_script;
    int m_default_status = 200;
    std::string m_default_body = "{}";
    std::chrono::milliseconds m_delay{0};
    std::vector<int> m_open_fds;
    std::vector<std::thread> m_threads;
    std::thread m_acceptor;
};

}  // namespace hookyard::test
