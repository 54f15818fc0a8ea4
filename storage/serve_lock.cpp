#include "storage/serve_lock.hpp"

#include <string_view>
#include <utility>

namespace hookyard::storage {

util::Result<std::unique_ptr<ServeLock>> lock_for_serve(const std::string& storage_url) {
    constexpr std::string_view k_sqlite = "sqlite:";
    if (storage_url.rfind(k_sqlite, 0) != 0) return std::unique_ptr<ServeLock>();
    const std::string path = storage_url.substr(k_sqlite.size()) + ".lock";
    auto lock = util::FileLock::try_acquire(path, util::FileLock::Mode::exclusive);
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
