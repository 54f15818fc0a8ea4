#pragma once
// Collects the lines a log sink receives (from any thread: a build's supervisor, a child's reader); the
// test thread reads them.

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace hookyard::test {

class LogLines {
public:
    // A sink (pipeline::LogSink) appending to this collector; it must not outlive the collector.
    std::function<void(std::string_view)> sink() {
        return [this](std::string_view line) {
            const std::lock_guard lock(m_mutex);
            m_lines.emplace_back(line);
        };
    }
    std::vector<std::string> lines() const {
        const std::lock_guard lock(m_mutex);
        return m_lines;
    }

private:
    mutable std::mutex m_mutex;
    std::vector<std::string> m_lines;
};

}  // namespace hookyard::test
