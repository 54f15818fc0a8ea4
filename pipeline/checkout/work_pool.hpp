#pragma once
// A pool of idle work trees per repository, so a warm build updates the files that changed instead of
// writing the whole tree again (what CI runners call the "fetch" strategy).

#include <atomic>
#include <cstddef>
#include <string>

namespace hookyard::pipeline {

// Layout: <root>/<repo_key>/<entry>. take() and give_back() use rename(2), so the pool must be on the
// same filesystem as the work dirs (both under the data dir); a failed rename falls back to a fresh
// checkout (take) or to removing the directory (give_back). Thread-safe and safe across processes
// sharing the data dir: an entry is claimed by whoever renames it first.
class WorkTreePool {
public:
    // Keeps at most `max_per_repo` idle trees per repository (0 disables pooling: give_back removes).
    explicit WorkTreePool(std::string root, std::size_t max_per_repo = 2);

    // Moves an idle tree of `repo_key` to `dest` (which must not exist, or be an empty directory).
    // Returns false when the pool has none for that repository or every rename failed.
    bool take(const std::string& repo_key, const std::string& dest);

    // Parks the finished work dir `dir` for `repo_key`; removes it instead when the pool is full or the
    // move fails. `dir` no longer exists at its old path afterwards. Never throws.
    void give_back(const std::string& repo_key, const std::string& dir);

private:
    std::string m_root;
    std::size_t m_max;
    std::atomic<unsigned long> m_counter{0};
};

}  // namespace hookyard::pipeline
