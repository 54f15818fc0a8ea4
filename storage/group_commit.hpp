#pragma once
// Group commit: accept transactions submitted from many threads are handed to ONE writer thread, which
// commits everything pending as a single database transaction (one fsync for the whole batch) and only
// then completes each submitter's callback. Durability per request, throughput of a batch.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/store.hpp"

namespace hookyard::storage {

struct PendingAccept {
    Delivery delivery;
    std::vector<NewBuild> builds;
    AcceptCallback done;
};

class GroupCommitQueue {
public:
    // Commits one batch durably and returns one result per item, in order. Runs on the writer thread only.
    using CommitBatch = std::function<std::vector<util::Result<AcceptOutcome>>(const std::vector<PendingAccept>&)>;

    // Starts the writer thread. `commit` must stay callable until the destructor returns.
    explicit GroupCommitQueue(CommitBatch commit);
    // Commits everything already submitted, then stops the writer thread.
    ~GroupCommitQueue();
    GroupCommitQueue(const GroupCommitQueue&) = delete;
    GroupCommitQueue& operator=(const GroupCommitQueue&) = delete;

    // Queues one accept; its callback runs on the writer thread after the batch holding it committed (or
    // at once, with a transient error, once the queue is shutting down or holds k_max_queued accepts
    // already: a stalled disk must not grow memory without bound). Thread-safe.
    void submit(PendingAccept item);

    // The most accepts waiting for a commit; past it submit() refuses (the sender retries later).
    static constexpr std::size_t k_max_queued = 4096;
    // Blocks until every item submitted before the call has completed. Thread-safe.
    void flush();

private:
    void run();

    // The most accepts one transaction takes; bounds the latency of the first one in the batch.
    static constexpr std::size_t k_max_batch = 512;

    CommitBatch m_commit;
    std::mutex m_mutex;
    std::condition_variable m_pending_cv;
    std::condition_variable m_done_cv;
    std::deque<PendingAccept> m_queue;
    std::uint64_t m_submitted = 0;
    std::uint64_t m_completed = 0;
    bool m_stopping = false;
    std::thread m_thread;  // last: starts after every member above exists
};

}  // namespace hookyard::storage
