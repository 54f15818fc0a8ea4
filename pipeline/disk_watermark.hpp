#pragma once
// Disk watermarks (builder.min_free_space): the free space of the file systems builds fill, the data dir
// and buildah's storage. Below the threshold builds wait in `queued` (the scheduler's hold), the pruner
// runs at once and /healthz answers degraded; webhook intake goes on while SQLite can write.

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace hookyard::pipeline {

class DiskWatermark {
public:
    struct Watched {
        std::string label;  // "data dir", "buildah storage"
        std::string path;   // checked at its nearest existing ancestor
    };

    // `on_low` (may be empty) runs on the checking thread each time the space goes from enough to too
    // little on any watched file system (serve starts the pruner). Thread-safe.
    DiskWatermark(std::vector<Watched> watched, std::uint64_t min_free, std::function<void()> on_low);

    // One reason per watched file system below the threshold, naming it, its free space and the setting,
    // e.g. "data dir /var/lib/hookyard: 1.2 GiB free, below builder.min_free_space (5.0 GiB)"; empty
    // when every one has enough (or cannot be measured).
    std::vector<std::string> reasons();

    // Free bytes for unprivileged users on the file system holding `path` (or its nearest existing
    // ancestor); nullopt when it cannot be measured.
    static std::optional<std::uint64_t> free_bytes(const std::string& path);

private:
    std::vector<Watched> m_watched;
    std::uint64_t m_min_free;
    std::function<void()> m_on_low;
    std::mutex m_mutex;
    bool m_low = false;  // guarded by m_mutex
};

// "1.2 GiB", "512.0 MiB", "300 B": sizes in messages.
std::string format_bytes(std::uint64_t bytes);

// buildah's storage root: `root` when set (--root), else buildah's default for this user
// (/var/lib/containers/storage for root; $XDG_DATA_HOME or ~/.local/share, /containers/storage otherwise).
std::string buildah_storage_root(const std::string& root);

}  // namespace hookyard::pipeline
