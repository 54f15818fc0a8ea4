#include "storage/group_commit.hpp"

namespace hookyard::storage {

GroupCommitQueue::GroupCommitQueue(CommitBatch commit) : m_commit(std::move(commit)), m_thread([this] { run(); }) {}

GroupCommitQueue::~GroupCommitQueue() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_pending_cv.notify_all();
    m_thread.join();
}

void GroupCommitQueue::submit(PendingAccept item) {
    bool full = false;
    {
        std::lock_guard lock(m_mutex);
        full = m_queue.size() >= k_max_queued;
        if (!m_stopping && !full) {
            m_queue.push_back(std::move(item));
            ++m_submitted;
            m_pending_cv.notify_one();
            return;
        }
    }
    item.done(util::make_error(util::ErrorKind::transient,
                               full ? "the store is " + std::to_string(k_max_queued) +
                                          " deliveries behind (a slow or full disk?); redeliver later"
                                    : std::string("the store is shutting down; GitHub will redeliver")));
}

void GroupCommitQueue::flush() {
    std::unique_lock lock(m_mutex);
    const auto target = m_submitted;
    m_done_cv.wait(lock, [&] { return m_completed >= target; });
}

void GroupCommitQueue::run() {
    for (;;) {
        std::vector<PendingAccept> batch;
        {
            std::unique_lock lock(m_mutex);
            m_pending_cv.wait(lock, [&] { return m_stopping || !m_queue.empty(); });
            if (m_queue.empty()) return;  // stopping and drained
            // Everything that queued up while the previous batch was committing goes into this one.
            while (!m_queue.empty() && batch.size() < k_max_batch) {
                batch.push_back(std::move(m_queue.front()));
                m_queue.pop_front();
            }
        }
        auto results = m_commit(batch);
        for (std::size_t i = 0; i < batch.size(); ++i) {
            batch[i].done(i < results.size()
                              ? std::move(results[i])
                              : util::Result<AcceptOutcome>(util::make_error(util::ErrorKind::internal,
                                                                             "group commit returned too few results")));
        }
        {
            std::lock_guard lock(m_mutex);
            m_completed += batch.size();
        }
        m_done_cv.notify_all();
    }
}

}  // namespace hookyard::storage
