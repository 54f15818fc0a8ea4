#pragma once
// A build's log on its way to the store: lines are buffered and written in batches (every `interval`, or
// once `batch_bytes` are pending, or on flush()), so a chatty build costs a transaction per batch, not per
// line. At a crash at most the pending batch is lost. The log is capped at `max_size` bytes: past the cap
// the stored log keeps its head and its tail with a marker line saying how much was dropped in between.
// Lines longer than `max_line` are split.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "storage/store.hpp"

namespace hookyard::storage {

struct LogLimits {
    std::uint64_t max_size = 16ULL * 1024 * 1024;
    std::size_t batch_bytes = 64 * 1024;
    std::chrono::milliseconds interval{100};
    std::size_t max_line = 64 * 1024;
};

class LogWriter {
public:
    // Starts the flusher thread; `store` must outlive the writer.
    LogWriter(Store& store, BuildId id, LogLimits limits);
    // close()s.
    ~LogWriter();
    LogWriter(const LogWriter&) = delete;
    LogWriter& operator=(const LogWriter&) = delete;

    // Appends `line` and a newline (split when longer than max_line). Thread-safe; never writes to the
    // store itself unless the writer is closed.
    void line(std::string_view line);
    // Writes everything pending now (a stage ended). Thread-safe.
    void flush();
    // Writes everything pending, then the marker and the kept tail when the cap was reached; stops the
    // thread. Later lines are dropped. Idempotent.
    void close();

    // Bytes dropped by the cap so far.
    std::uint64_t dropped_bytes() const;

private:
    void add(std::string text);
    void run();
    void write_pending();
    void write(const std::string& text);

    Store& m_store;
    const BuildId m_id;
    const LogLimits m_limits;
    const std::uint64_t m_head_budget;  // bytes written as they come
    const std::uint64_t m_tail_budget;  // bytes held for the end once the head is full

    std::mutex m_write_mutex;  // orders the batches: taken around swapping out and writing one batch
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    std::string m_pending;
    std::uint64_t m_head_bytes = 0;
    std::deque<std::string> m_tail;
    std::uint64_t m_tail_bytes = 0;
    std::uint64_t m_dropped_bytes = 0;
    std::uint64_t m_dropped_lines = 0;
    bool m_closed = false;
    std::thread m_thread;  // last: starts after every member above exists
};

}  // namespace hookyard::storage
