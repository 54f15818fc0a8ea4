#include "pipeline/disk_watermark.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace hookyard::pipeline {

DiskWatermark::DiskWatermark(std::vector<Watched> watched, std::uint64_t min_free, std::function<void()> on_low)
    : m_watched(std::move(watched)), m_min_free(min_free), m_on_low(std::move(on_low)) {}

std::vector<std::string> DiskWatermark::reasons() {
    std::vector<std::string> out;
    for (const auto& w : m_watched) {
        const auto free = free_bytes(w.path);
        if (!free || *free >= m_min_free) continue;
        out.push_back(w.label + " " + w.path + ": " + format_bytes(*free) + " free, below builder.min_free_space (" +
                      format_bytes(m_min_free) + "); builds wait until space is freed");
    }
    bool became_low = false;
    {
        std::lock_guard lock(m_mutex);
        became_low = !out.empty() && !m_low;
        m_low = !out.empty();
    }
    if (became_low && m_on_low) m_on_low();
    return out;
}

std::optional<std::uint64_t> DiskWatermark::free_bytes(const std::string& path) {
    std::error_code ec;
    std::filesystem::path p = std::filesystem::absolute(path, ec);
    if (ec) return std::nullopt;
    // The storage root may not exist before the first build: its file system is its parent's.
    while (!std::filesystem::exists(p, ec) && p.has_parent_path() && p != p.parent_path()) p = p.parent_path();
    struct statvfs st {};
    if (statvfs(p.c_str(), &st) != 0) return std::nullopt;
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

std::string format_bytes(std::uint64_t bytes) {
    constexpr std::array<const char*, 5> k_units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) return std::to_string(bytes) + " B";
    double v = static_cast<double>(bytes) / 1024;
    std::size_t unit = 0;
    while (v >= 1024 && unit + 1 < k_units.size()) {
        v /= 1024;
        ++unit;
    }
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), "%.1f %s", v, k_units[unit]);
    return buf.data();
}

std::string buildah_storage_root(const std::string& root) {
    if (!root.empty()) return root;
    if (geteuid() == 0) return "/var/lib/containers/storage";
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0')
        return std::string(xdg) + "/containers/storage";
    const char* home = std::getenv("HOME");
    return std::string(home != nullptr ? home : "") + "/.local/share/containers/storage";
}

}  // namespace hookyard::pipeline
