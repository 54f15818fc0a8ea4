#pragma once
// An flock(2) on a file, the one way hookyard processes sharing a directory take turns: one serve per SQLite
// file, one fetch per mirror, removals of final images against builds on the same buildah storage.

#include <string>

#include "util/result.hpp"

namespace hookyard::util {

// Held until destroyed or moved from, or until the process dies, however it dies (the kernel releases it).
class FileLock {
public:
    enum class Mode { shared, exclusive };

    // Opens `path` (created 0600 when missing) and waits for the lock. internal error naming the path when
    // it cannot be opened or locked.
    static Result<FileLock> acquire(const std::string& path, Mode mode);
    // The same without waiting: conflict when another holder has it in a mode that excludes `mode`.
    static Result<FileLock> try_acquire(const std::string& path, Mode mode);

    FileLock() = default;  // holds nothing
    FileLock(FileLock&& other) noexcept;
    FileLock& operator=(FileLock&& other) noexcept;
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

    bool held() const { return m_fd >= 0; }

private:
    explicit FileLock(int fd) : m_fd(fd) {}
    static Result<FileLock> lock(const std::string& path, int operation);

    int m_fd = -1;
};

}  // namespace hookyard::util
