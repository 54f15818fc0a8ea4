#pragma once
// The SQLite store's WAL upkeep, off the commit path, on a thread of its own:
// - Checkpoints. SQLite's automatic checkpoint runs inside the commit that takes the WAL past 1000 pages:
//   that commit (a webhook delivery's, or a log batch's while a delivery waits for the write lock) then
//   also copies the WAL into the database and fsyncs both files. Here a connection of its own checkpoints
//   PASSIVE (never waiting for or blocking a writer or a reader) once the write connection reports that
//   many pages.
// - Written-ahead WAL blocks. A commit's fdatasync of a WAL that grows must also commit the file system's
//   journal (the new blocks), and that waits for every other writer on the file system: on a busy host
//   p99 63 ms against 12 ms for overwriting blocks already written (4 KiB fdatasync, same disk, same
//   minute). The WAL starts over from its head after each checkpoint, so keeping k_reserve_bytes of it
//   written (zeros past its end, which SQLite's recovery reads as the end of the log) makes commits
//   overwrite instead of grow. Skipped on a file system with less than k_reserve_min_free free.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "storage/sqlite_db.hpp"

namespace hookyard::storage::sqlite {

class WalCheckpointer {
public:
    // The WAL size in pages that starts a checkpoint: SQLite's own default threshold.
    static constexpr int k_pages = 1000;
    // How often the WAL is looked at.
    static constexpr std::chrono::milliseconds k_poll{100};
    // The WAL bytes kept written: 1000 frames of 4 KiB pages twice over.
    static constexpr std::uint64_t k_reserve_bytes = 8ULL << 20;
    static constexpr std::uint64_t k_reserve_min_free = 256ULL << 20;
    // After a failed reserve (a full disk), the next try.
    static constexpr std::chrono::seconds k_reserve_retry{60};

    // Runs `locked(fn)`: fn() while no writer (of any process) can append to the WAL, i.e. in a write
    // transaction of the store's write connection.
    using UnderWriteLock = std::function<util::Status(const std::function<util::Status()>&)>;

    // Turns the automatic checkpoint of `writer` off and starts the thread, which checkpoints with `own` (a
    // connection to the same database) and extends the WAL under `locked`. `writer` must outlive this.
    WalCheckpointer(Db& writer, std::unique_ptr<Db> own, UnderWriteLock locked);
    // Stops the thread (a checkpoint under way finishes first).
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

    // Waits for a checkpoint under way, then keeps the next from starting while the lock lives: an explicit
    // checkpoint (the pruner's TRUNCATE) fails at once, without a busy wait, while another one runs.
    std::unique_lock<std::mutex> pause() { return std::unique_lock(m_checkpoint_mutex); }

private:
    void run();
    void checkpoint_if_due(int& checkpointed_at);
    // Writes zeros past the end of the WAL up to k_reserve_bytes and syncs them (outside the write lock).
    util::Status reserve();

    Db& m_writer;
    std::unique_ptr<Db> m_own;
    UnderWriteLock m_locked;
    std::string m_wal;
    std::mutex m_checkpoint_mutex;  // held through each checkpoint
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stopping = false;
    std::thread m_thread;  // last: starts after every member above exists
};

}  // namespace hookyard::storage::sqlite
