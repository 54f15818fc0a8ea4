#include "pipeline/checkout/work_pool.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <vector>

#include "util/log.hpp"

namespace hookyard::pipeline {

namespace fs = std::filesystem;

WorkTreePool::WorkTreePool(std::string root, std::size_t max_per_repo) : m_root(std::move(root)), m_max(max_per_repo) {}

bool WorkTreePool::take(const std::string& repo_key, const std::string& dest) {
    std::error_code ec;
    const fs::path dir = fs::path(m_root) / repo_key;
    std::vector<fs::path> entries;
    for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
        entries.push_back(it->path());
    }
    for (const auto& entry : entries) {
        // rename(2) claims the entry atomically; losing the race to another build just means trying the next.
        if (std::rename(entry.c_str(), dest.c_str()) == 0) return true;
    }
    return false;
}

void WorkTreePool::give_back(const std::string& repo_key, const std::string& dir) {
    std::error_code ec;
    const fs::path pool_dir = fs::path(m_root) / repo_key;
    std::size_t idle = 0;
    for (fs::directory_iterator it(pool_dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) ++idle;
    if (m_max > 0 && idle < m_max) {
        fs::create_directories(pool_dir, ec);
        const fs::path entry = pool_dir / (std::to_string(::getpid()) + "-" + std::to_string(++m_counter));
        if (!ec && std::rename(dir.c_str(), entry.c_str()) == 0) return;
    }
    fs::remove_all(dir, ec);
    if (ec) util::log_warn("checkout", "cannot remove work dir " + dir + ": " + ec.message());
}

}  // namespace hookyard::pipeline
