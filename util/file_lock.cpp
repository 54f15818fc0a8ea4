#include "util/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace hookyard::util {

Result<FileLock> FileLock::acquire(const std::string& path, Mode mode) {
    return lock(path, mode == Mode::shared ? LOCK_SH : LOCK_EX);
}

Result<FileLock> FileLock::try_acquire(const std::string& path, Mode mode) {
    return lock(path, (mode == Mode::shared ? LOCK_SH : LOCK_EX) | LOCK_NB);
}

Result<FileLock> FileLock::lock(const std::string& path, int operation) {
    FileLock held(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!held.held())
        return make_error(ErrorKind::internal, "cannot open lock file " + path + ": " + std::strerror(errno));
    int rc = 0;
    while ((rc = ::flock(held.m_fd, operation)) != 0 && errno == EINTR) {
    }
    if (rc == 0) return held;
    if (errno == EWOULDBLOCK) return make_error(ErrorKind::conflict, path + " is locked by another holder");
    return make_error(ErrorKind::internal, "cannot lock " + path + ": " + std::strerror(errno));
}

FileLock::FileLock(FileLock&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
}

FileLock::~FileLock() {
    if (m_fd >= 0) ::close(m_fd);  // closing the last descriptor releases the flock
}

}  // namespace hookyard::util
