#include "storage/log_writer.hpp"

#include <algorithm>
#include <utility>

#include "util/log.hpp"

namespace hookyard::storage {
namespace {

// Room kept for the marker line so head + marker + tail stays within max_size.
constexpr std::uint64_t k_marker_room = 160;

std::uint64_t head_budget(const LogLimits& l) {
    return l.max_size > k_marker_room ? (l.max_size - k_marker_room) / 2 : 0;
}

}  // namespace

LogWriter::LogWriter(Store& store, BuildId id, LogLimits limits)
    : m_store(store),
      m_id(id),
      m_limits(limits),
      m_head_budget(head_budget(limits)),
      m_tail_budget(limits.max_size > k_marker_room ? limits.max_size - k_marker_room - m_head_budget : 0),
      m_thread([this] { run(); }) {}

LogWriter::~LogWriter() { close(); }

void LogWriter::line(std::string_view line) {
    const std::size_t max_line = std::max<std::size_t>(m_limits.max_line, 1);
    do {
        const std::string_view piece = line.substr(0, max_line);
        line.remove_prefix(piece.size());
        std::string text(piece);
        text.push_back('\n');
        add(std::move(text));
    } while (!line.empty());
}

void LogWriter::add(std::string text) {
    std::lock_guard lock(m_mutex);
    if (m_closed) return;
    if (m_head_bytes + text.size() <= m_head_budget && m_tail.empty()) {
        m_head_bytes += text.size();
        m_pending += text;
        if (m_pending.size() >= m_limits.batch_bytes) m_cv.notify_one();
        return;
    }
    // Past the head: keep the newest lines that fit the tail budget, count what falls out.
    m_tail_bytes += text.size();
    m_tail.push_back(std::move(text));
    while (m_tail_bytes > m_tail_budget && !m_tail.empty()) {
        m_tail_bytes -= m_tail.front().size();
        m_dropped_bytes += m_tail.front().size();
        ++m_dropped_lines;
        m_tail.pop_front();
    }
}

void LogWriter::flush() { write_pending(); }

void LogWriter::close() {
    {
        std::lock_guard lock(m_mutex);
        if (m_closed) return;
        m_closed = true;
    }
    m_cv.notify_one();
    if (m_thread.joinable()) m_thread.join();
    std::lock_guard write_lock(m_write_mutex);
    std::string rest;
    {
        std::lock_guard lock(m_mutex);
        rest = std::exchange(m_pending, {});
        if (m_dropped_bytes > 0) {
            rest += "hookyard: log exceeds builder.max_log_size (" + std::to_string(m_limits.max_size) +
                    " bytes): " + std::to_string(m_dropped_bytes) + " bytes (" + std::to_string(m_dropped_lines) +
                    " lines) dropped here\n";
        }
        for (const auto& t : m_tail) rest += t;
        m_tail.clear();
        m_tail_bytes = 0;
    }
    write(rest);
}

std::uint64_t LogWriter::dropped_bytes() const {
    std::lock_guard lock(m_mutex);
    return m_dropped_bytes;
}

void LogWriter::run() {
    std::unique_lock lock(m_mutex);
    while (!m_closed) {
        // Wake on a full batch or after one interval; whatever is pending then goes out as one write.
        m_cv.wait_for(lock, m_limits.interval, [this] { return m_closed || m_pending.size() >= m_limits.batch_bytes; });
        if (m_pending.empty()) continue;
        lock.unlock();
        write_pending();
        lock.lock();
    }
}

void LogWriter::write_pending() {
    std::lock_guard write_lock(m_write_mutex);
    std::string batch;
    {
        std::lock_guard lock(m_mutex);
        batch = std::exchange(m_pending, {});
    }
    write(batch);
}

void LogWriter::write(const std::string& text) {
    if (text.empty()) return;
    // A failed write loses this batch only; the build goes on (its outcome matters more than its log).
    if (auto st = m_store.append_log(m_id, text); !st) {
        util::log_warn("storage", "build " + std::to_string(m_id) + ": log append failed: " + st.error().message);
    }
}

}  // namespace hookyard::storage
