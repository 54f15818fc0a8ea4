#pragma once
// A real HTTP/1.1 server on 127.0.0.1 for tests that need a peer to receive hookyard's outbound requests
// (webhook subscribers, the GitHub statuses API, Docker Hub callbacks). It records every request and
// answers from a script: a queue of statuses to return first, then the default status.

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hookyard::test {

struct ReceivedRequest {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    std::string header(const std::string& lower_name) const {
        const auto it = headers.find(lower_name);
        return it == headers.end() ? "" : it->second;
    }
};

class HttpReceiver {
public:
    // Starts listening on a free port at once; serves on a background thread until destroyed.
    HttpReceiver();
    ~HttpReceiver();
    HttpReceiver(const HttpReceiver&) = delete;
    HttpReceiver& operator=(const HttpReceiver&) = delete;

    int port() const { return m_port; }
    std::string url(const std::string& path = "/") const;

    // Statuses for the next requests, in order (e.g. {500, 500} = fail twice); afterwards default_status.
    void script(std::vector<int> statuses);
    void set_default_status(int status, std::string body = "{}");
    // Delays every answer by `delay` (a slow receiver).
    void set_delay(std::chrono::milliseconds delay);

    std::vector<ReceivedRequest> requests() const;
    std::size_t count() const;
    // Polls until at least `n` requests arrived; returns whether they did within `timeout`.
    bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const;

private:
    void serve();
    void handle(int fd);

    int m_listen_fd = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    mutable std::mutex m_mutex;
    std::vector<ReceivedRequest> m_requests;
    std::deque<int> m_script;
    int m_default_status = 200;
    std::string m_default_body = "{}";
    std::chrono::milliseconds m_delay{0};
    std::vector<std::thread> m_workers;
    std::thread m_thread;
};

}  // namespace hookyard::test
