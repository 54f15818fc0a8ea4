#include "storage/serve_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace hookyard::storage {

ServeLock::~ServeLock() { ::close(m_fd); }

util::Result<std::unique_ptr<ServeLock>> lock_for_serve(const std::string& storage_url) {
    constexpr std::string_view k_sqlite = "sqlite:";
    if (storage_url.rfind(k_sqlite, 0) != 0) return std::unique_ptr<ServeLock>();
    const std::string path = storage_url.substr(k_sqlite.size()) + ".lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return util::make_error(util::ErrorKind::internal,
                                "cannot open " + path + ": " + std::strerror(errno) + " (check the data dir)");
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        ::close(fd);
        if (err != EWOULDBLOCK) {
            return util::make_error(util::ErrorKind::internal, "cannot lock " + path + ": " + std::strerror(err));
        }
        return util::make_error(util::ErrorKind::conflict,
                                "another hookyard serve already uses " + storage_url.substr(k_sqlite.size()) +
                                    " (it holds " + path +
                                    "): stop it first; to run several instances, use PostgreSQL (storage: "
                                    "postgresql://USER@HOST/DB)");
    }
    return std::make_unique<ServeLock>(fd);
}

}  // namespace hookyard::storage
