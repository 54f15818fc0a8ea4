#pragma once
// Threads that answer the dashboard's and the badges' routes, so that their store reads (a page of builds, a
// megabyte of log) never hold one of the server's few io threads: a slow page cannot stall webhook intake.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "http/route_table.hpp"

namespace hookyard::api {

class PageWorkers {
public:
    // `threads` workers; at most `max_waiting` requests wait for one (more are answered 503 at once).
    PageWorkers(int threads, std::size_t max_waiting);
    // Answers every request already accepted, then joins the threads.
    ~PageWorkers();
    PageWorkers(const PageWorkers&) = delete;
    PageWorkers& operator=(const PageWorkers&) = delete;

    // Runs `job` on a worker; false (nothing runs) when max_waiting jobs already wait or it is stopping.
    bool submit(std::function<void()> job);

private:
    void run();

    std::size_t m_max_waiting;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<std::function<void()>> m_jobs;  // guarded by m_mutex
    bool m_stopping = false;                   // guarded by m_mutex
    std::vector<std::thread> m_threads;
};

// `handler` answered on `workers` (null = on the calling thread): the request and its params are copied for
// it; a full queue answers 503 with Retry-After.
http::RouteHandler on_workers(PageWorkers* workers, http::SyncRouteHandler handler);

}  // namespace hookyard::api
