#include "storage/serve_lock.hpp"

#include <chrono>
#include <string_view>
#include <thread>
#include <utility>

namespace hookyard::storage {

util::Result<std::unique_ptr<ServeLock>> lock_for_serve(const std::string& storage_url) {
    constexpr std::string_view k_sqlite = "sqlite:";
    if (storage_url.rfind(k_sqlite, 0) != 0) return std::unique_ptr<ServeLock>();
    const std::string path = storage_url.substr(k_sqlite.size()) + ".lock";
    // A serve killed a moment ago may still hold it for a while: a child it forked keeps the descriptor
    // until the child's exec (or its own death from the parent-death signal), which takes time on a loaded
    // host. A live serve holds it for good, so a few seconds of retrying only delay the refusal.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto lock = util::FileLock::try_acquire(path, util::FileLock::Mode::exclusive);
    while (!lock && lock.error().kind == util::ErrorKind::conflict && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        lock = util::FileLock::try_acquire(path, util::FileLock::Mode::exclusive);
    }
    if (lock) return std::make_unique<ServeLock>(std::move(*lock));
    if (lock.error().kind != util::ErrorKind::conflict) {
        return util::make_error(util::ErrorKind::internal, lock.error().message + " (check the data dir)");
    }
    return util::make_error(util::ErrorKind::conflict,
                            "another hookyard serve already uses " + storage_url.substr(k_sqlite.size()) +
                                " (it holds " + path +
                                "): stop it first; to run several instances, use PostgreSQL (storage: "
                                "postgresql://USER@HOST/DB)");
}

}  // namespace hookyard::storage
