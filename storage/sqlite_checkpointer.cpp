#include "storage/sqlite_checkpointer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "util/log.hpp"

namespace hookyard::storage::sqlite {
namespace {

// The size of `path`; 0 when it does not exist.
std::uint64_t wal_file_size(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

std::uint64_t free_bytes(const std::string& path) {
    struct statvfs st {};
    return ::statvfs(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize : 0;
}

util::Error wal_error(const std::string& what, const std::string& wal) {
    return util::make_error(util::ErrorKind::internal, what + " " + wal + ": " + std::strerror(errno));
}

// Appends zeros to the existing file `wal` up to `bytes`; never writes below its current end (where
// SQLite's frames are). fdatasync()s when `sync`.
util::Status zero_fill(const std::string& wal, std::uint64_t bytes, bool sync) {
    const int fd = ::open(wal.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? util::Status{} : wal_error("cannot open", wal);
    struct stat st {};
    util::Status out;
    if (::fstat(fd, &st) != 0) out = wal_error("cannot stat", wal);
    const std::vector<char> zeros(1 << 20, 0);
    for (auto at = static_cast<std::uint64_t>(st.st_size); out && at < bytes;) {
        const auto n =
            ::pwrite(fd, zeros.data(), std::min<std::uint64_t>(zeros.size(), bytes - at), static_cast<off_t>(at));
        if (n <= 0) out = wal_error("cannot extend", wal);
        if (n > 0) at += static_cast<std::uint64_t>(n);
    }
    if (out && sync && ::fdatasync(fd) != 0) out = wal_error("cannot sync", wal);
    ::close(fd);
    return out;
}

}  // namespace

WalCheckpointer::WalCheckpointer(Db& writer, std::unique_ptr<Db> own, UnderWriteLock locked)
    : m_writer(writer), m_own(std::move(own)), m_locked(std::move(locked)), m_wal(writer.path() + "-wal") {
    m_writer.count_wal_pages();
    m_thread = std::thread([this] { run(); });
}

WalCheckpointer::~WalCheckpointer() {
    {
        const std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_cv.notify_all();
    m_thread.join();
}

util::Status WalCheckpointer::reserve() {
    if (wal_file_size(m_wal) >= k_reserve_bytes || free_bytes(m_wal) < k_reserve_min_free) return {};
    // Under the write lock no commit appends at the WAL's end while the zeros go there.
    if (auto st = m_locked([&] { return zero_fill(m_wal, k_reserve_bytes, false); }); !st) return st;
    // The new blocks reach the disk here, not in the next delivery's commit.
    return zero_fill(m_wal, 0, true);
}

void WalCheckpointer::checkpoint_if_due(int& checkpointed_at) {
    const int pages = m_writer.wal_pages();
    if (pages < k_pages || pages == checkpointed_at) return;
    const auto st = [&] {
        const std::lock_guard lock(m_checkpoint_mutex);
        return m_own->checkpoint_passive();
    }();
    checkpointed_at = pages;  // no second run until a commit changes the WAL
    if (!st) util::log_warn("storage", "WAL checkpoint: " + st.error().message + "; retrying at the next commit");
}

void WalCheckpointer::run() {
    int checkpointed_at = 0;
    auto next_reserve = std::chrono::steady_clock::now();
    std::unique_lock lock(m_mutex);
    while (!m_cv.wait_for(lock, k_poll, [this] { return m_stopping; })) {
        lock.unlock();
        checkpoint_if_due(checkpointed_at);
        if (std::chrono::steady_clock::now() >= next_reserve) {
            if (auto st = reserve(); !st) {
                util::log_warn("storage", "keeping the WAL's blocks written: " + st.error().message);
                next_reserve = std::chrono::steady_clock::now() + k_reserve_retry;
            }
        }
        lock.lock();
    }
}

}  // namespace hookyard::storage::sqlite
