#include "api/page_workers.hpp"

#include <memory>

namespace hookyard::api {

PageWorkers::PageWorkers(int threads, std::size_t max_waiting) : m_max_waiting(max_waiting) {
    for (int i = 0; i < threads; ++i) m_threads.emplace_back([this] { run(); });
}

PageWorkers::~PageWorkers() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_cv.notify_all();
    for (auto& t : m_threads) t.join();
}

bool PageWorkers::submit(std::function<void()> job) {
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping || m_jobs.size() >= m_max_waiting) return false;
        m_jobs.push_back(std::move(job));
    }
    m_cv.notify_one();
    return true;
}

void PageWorkers::run() {
    while (true) {
        std::function<void()> job;
        {
            std::unique_lock lock(m_mutex);
            m_cv.wait(lock, [this] { return m_stopping || !m_jobs.empty(); });
            // Jobs accepted before the stop still run: each holds a responder that must answer once.
            if (m_jobs.empty()) return;
            job = std::move(m_jobs.front());
            m_jobs.pop_front();
        }
        job();
    }
}

http::RouteHandler on_workers(PageWorkers* workers, http::SyncRouteHandler handler) {
    return [workers, handler = std::move(handler)](const http::ServerRequest& req, const http::PathParams& params,
                                                   http::Responder respond) {
        if (workers == nullptr) {
            respond(handler(req, params));
            return;
        }
        auto shared_respond = std::make_shared<http::Responder>(std::move(respond));
        const bool queued = workers->submit([handler, req, params, shared_respond] {
            http::ServerResponse r;
            try {
                r = handler(req, params);
            } catch (const std::exception& e) {
                r = http::json_error(500, std::string("internal error: ") + e.what());
            }
            (*shared_respond)(std::move(r));
        });
        if (!queued) {
            http::ServerResponse busy = http::json_error(503, "the dashboard is busy; retry in a second");
            busy.headers.emplace_back("Retry-After", "1");
            (*shared_respond)(std::move(busy));
        }
    };
}

}  // namespace hookyard::api
