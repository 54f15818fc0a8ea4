#pragma once
// Configuration problems, each with the file and line it is on and what to do about it.

#include <string>
#include <vector>

namespace hookyard::config {

struct Diagnostic {
    std::string file;
    int line = 0;  // 1-based; 0 when the problem is not on a line (file missing)
    std::string message;
    // "FILE:LINE: message"
    std::string str() const;
};

// Collects diagnostics for one file. Not thread-safe; one per load.
class Diagnostics {
public:
    explicit Diagnostics(std::string file) : m_file(std::move(file)) {}
    void add(int line, std::string message) { m_items.push_back({m_file, line, std::move(message)}); }
    // A problem that does not stop the config from loading; str() reads "FILE:LINE: warning: message".
    void warn(int line, std::string message) { m_warnings.push_back({m_file, line, "warning: " + std::move(message)}); }
    bool empty() const { return m_items.empty(); }
    const std::vector<Diagnostic>& warnings() const { return m_warnings; }
    const std::vector<Diagnostic>& items() const { return m_items; }
    const std::string& file() const { return m_file; }

private:
    std::string m_file;
    std::vector<Diagnostic> m_items;
    std::vector<Diagnostic> m_warnings;
};

// The closest candidate by edit distance when it is close enough to be a likely typo, else "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace hookyard::config
