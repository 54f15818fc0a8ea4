#include "util/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <regex>

namespace hookyard::util {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::info)};
std::mutex g_write_mutex;

std::string_view level_name(LogLevel level) {
    switch (level) {
        case LogLevel::debug:
            return "DEBUG";
        case LogLevel::info:
            return "INFO";
        case LogLevel::warn:
            return "WARN";
        case LogLevel::error:
            return "ERROR";
    }
    return "INFO";
}

}  // namespace

void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level)); }

bool parse_log_level(std::string_view text, LogLevel& out) {
    if (text == "debug")
        out = LogLevel::debug;
    else if (text == "info")
        out = LogLevel::info;
    else if (text == "warn")
        out = LogLevel::warn;
    else if (text == "error")
        out = LogLevel::error;
    else
        return false;
    return true;
}

std::string now_rfc3339() {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const auto secs = system_clock::to_time_t(now);
    const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[80];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

std::string redact_url(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return std::string(url);
    const auto authority_start = scheme_end + 3;
    const auto authority_end = url.find_first_of("/?#", authority_start);
    const auto authority =
        url.substr(authority_start,
                   authority_end == std::string_view::npos ? std::string_view::npos : authority_end - authority_start);
    const auto at = authority.rfind('@');
    if (at == std::string_view::npos) return std::string(url);
    const auto userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    std::string out(url.substr(0, authority_start));
    if (colon == std::string_view::npos) {
        out += "***";
    } else {
        out += userinfo.substr(0, colon);
        out += ":***";
    }
    out += url.substr(authority_start + at);
    return out;
}

std::string redact(std::string_view text) {
    // Userinfo in URLs: scheme://user:secret@ or scheme://secret@
    static const std::regex url_userinfo(R"(([A-Za-z][A-Za-z0-9+.-]*://)([^/@\s:]*)(:[^/@\s]*)?@)");
    static const std::regex auth_header(R"((Authorization:\s*)(Basic|Bearer|token)?\s*\S+)", std::regex::icase);
    static const std::regex key_value(R"(((?:token|password|secret|access_token)=)[^&\s"]+)", std::regex::icase);
    std::string out(text);
    out = std::regex_replace(out, url_userinfo, "$1***@");
    out = std::regex_replace(out, auth_header, "$1$2 ***");
    out = std::regex_replace(out, key_value, "$1***");
    return out;
}

void log(LogLevel level, std::string_view component, std::string_view message) {
    if (static_cast<int>(level) < g_level.load()) return;
    const std::string line = now_rfc3339() + " " + std::string(level_name(level)) + " " + std::string(component) +
                             ": " + redact(message) + "\n";
    std::lock_guard lock(g_write_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace hookyard::util
