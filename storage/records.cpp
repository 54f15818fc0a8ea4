#include "storage/records.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace hookyard::storage {

TimeMs now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string format_rfc3339(TimeMs t) {
    if (t <= 0) return "";
    const std::time_t secs = static_cast<std::time_t>(t / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(t % 1000));
    return buf;
}

}  // namespace hookyard::storage
