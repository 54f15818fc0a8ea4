#include "util/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "util/enum_name.hpp"

namespace hookyard::util {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::info)};
std::mutex g_write_mutex;

std::string_view level_name(LogLevel level) {
    static constexpr EnumNames k_names(LogLevel::error,
                                       std::array<std::string_view, 4>{"DEBUG", "INFO", "WARN", "ERROR"});
    return k_names(level, "INFO");
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

bool is_scheme_char(char c) { return is_alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '.' || c == '-'; }

// True when the characters before `pos` end a URL scheme ([A-Za-z][A-Za-z0-9+.-]*): a run with a letter.
bool preceded_by_scheme(std::string_view text, std::size_t pos) {
    bool letter = false;
    for (; pos > 0 && is_scheme_char(text[pos - 1]); --pos) {
        if (is_alpha(text[pos - 1])) letter = true;
    }
    return letter;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_icase(std::string_view text, std::size_t at, std::string_view word) {
    if (text.size() - at < word.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i) {
        if (lower(text[at + i]) != word[i]) return false;
    }
    return true;
}

// `scheme://user:secret@` and `scheme://secret@` → `scheme://***@`. Plain scanning, linear in the text.
std::string redact_url_userinfo(std::string_view text) {
    std::string out;
    std::size_t copied = 0, pos = 0;
    while ((pos = text.find("://", pos)) != std::string_view::npos) {
        const std::size_t start = pos + 3;
        if (!preceded_by_scheme(text, pos)) {
            pos = start;
            continue;
        }
        std::size_t end = start;
        while (end < text.size() && text[end] != '/' && text[end] != '@' && !is_space(text[end])) ++end;
        if (end < text.size() && text[end] == '@') {
            out.append(text.substr(copied, start - copied));
            out += "***";
            copied = end;
        }
        pos = end;
    }
    out.append(text.substr(copied));
    return out;
}

// `Authorization: Bearer x` → `Authorization: Bearer ***` (the scheme word kept, case-insensitive).
std::string redact_authorization(std::string_view text) {
    constexpr std::string_view k_header = "authorization:";
    std::string out;
    std::size_t copied = 0, pos = 0;
    for (; pos < text.size(); ++pos) {
        if (!starts_with_icase(text, pos, k_header)) continue;
        std::size_t i = pos + k_header.size();
        while (i < text.size() && is_space(text[i])) ++i;
        const std::size_t kept_end = i;  // "Authorization:" and the blanks after it
        std::size_t scheme_end = i;
        for (std::string_view scheme : {"basic", "bearer", "token"}) {
            if (starts_with_icase(text, i, scheme)) {
                std::size_t j = i + scheme.size();
                while (j < text.size() && is_space(text[j])) ++j;
                if (j < text.size()) scheme_end = i + scheme.size();
                break;
            }
        }
        std::size_t value = scheme_end;
        while (value < text.size() && is_space(text[value])) ++value;
        if (value == text.size()) continue;
        std::size_t end = value;
        while (end < text.size() && !is_space(text[end])) ++end;
        out.append(text.substr(copied, kept_end - copied));
        out.append(text.substr(kept_end, scheme_end - kept_end));
        out += " ***";
        copied = end;
        pos = end - 1;
    }
    out.append(text.substr(copied));
    return out;
}

// `token=x`, `password=x`, `secret=x`, `access_token=x` → `…=***` (case-insensitive keys).
std::string redact_key_values(std::string_view text) {
    std::string out;
    std::size_t copied = 0;
    for (std::size_t pos = 0; pos < text.size(); ++pos) {
        std::size_t value = std::string_view::npos;
        for (std::string_view key : {"token=", "password=", "secret="}) {
            if (starts_with_icase(text, pos, key)) value = pos + key.size();
        }
        if (value == std::string_view::npos) continue;
        std::size_t end = value;
        while (end < text.size() && text[end] != '&' && text[end] != '"' && !is_space(text[end])) ++end;
        if (end == value) continue;
        out.append(text.substr(copied, value - copied));
        out += "***";
        copied = end;
        pos = end - 1;
    }
    out.append(text.substr(copied));
    return out;
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

namespace {

// Where `user[:password]` stands in a URL's authority: [start, at), `at` being the '@'; none without "://".
struct Userinfo {
    std::size_t start = std::string_view::npos;
    std::size_t at = std::string_view::npos;
};

Userinfo find_userinfo(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return {};
    const auto start = scheme_end + 3;
    const auto end = url.find_first_of("/?#", start);
    const auto authority = url.substr(start, end == std::string_view::npos ? url.npos : end - start);
    const auto at = authority.rfind('@');
    if (at == std::string_view::npos) return {};
    return {start, start + at};
}

}  // namespace

std::string redact_url(std::string_view url) {
    const Userinfo info = find_userinfo(url);
    if (info.at == std::string_view::npos) return std::string(url);
    const auto userinfo = url.substr(info.start, info.at - info.start);
    const auto colon = userinfo.find(':');
    std::string out(url.substr(0, info.start));
    out += colon == std::string_view::npos ? std::string("***") : std::string(userinfo.substr(0, colon)) + ":***";
    out += url.substr(info.at);
    return out;
}

std::string strip_url_userinfo(std::string_view url) {
    const Userinfo info = find_userinfo(url);
    if (info.at == std::string_view::npos) return std::string(url);
    return std::string(url.substr(0, info.start)) + std::string(url.substr(info.at + 1));
}

std::string redact(std::string_view text) {
    std::string out = redact_url_userinfo(text);
    out = redact_authorization(out);
    return redact_key_values(out);
}

void log(LogLevel level, std::string_view component, std::string_view message) {
    if (static_cast<int>(level) < g_level.load()) return;
    const std::string line = now_rfc3339() + " " + std::string(level_name(level)) + " " + std::string(component) +
                             ": " + redact(message) + "\n";
    std::lock_guard lock(g_write_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace hookyard::util
