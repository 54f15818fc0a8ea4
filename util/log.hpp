#pragma once
// Process-wide structured logging to stderr. Every line passes through redact() so a credential that
// slipped into a message (URL userinfo, Authorization header, token=) never reaches the log.

#include <string>
#include <string_view>

namespace hookyard::util {

enum class LogLevel { debug, info, warn, error };

// Sets the minimum level printed. Thread-safe.
void set_log_level(LogLevel level);
// Parses "debug|info|warn|error"; returns false (and leaves `out` untouched) otherwise.
bool parse_log_level(std::string_view text, LogLevel& out);

// Writes one line "<RFC3339 time> <level> <component>: <message>" after redaction. Thread-safe.
void log(LogLevel level, std::string_view component, std::string_view message);

inline void log_debug(std::string_view c, std::string_view m) { log(LogLevel::debug, c, m); }
inline void log_info(std::string_view c, std::string_view m) { log(LogLevel::info, c, m); }
inline void log_warn(std::string_view c, std::string_view m) { log(LogLevel::warn, c, m); }
inline void log_error(std::string_view c, std::string_view m) { log(LogLevel::error, c, m); }

// Removes secrets from free text: the password (or token) in `scheme://user:secret@host`, the value of
// `Authorization:` headers and of `token=`, `password=`, `secret=` pairs. Pure function.
std::string redact(std::string_view text);

// Redacts one URL: `https://user:tok@host/x` → `https://user:***@host/x`, `https://tok@host` → `https://***@host`.
std::string redact_url(std::string_view url);

// Removes the userinfo from a URL: `https://x:tok@github.com/a.git` → `https://github.com/a.git`, the form
// stored in a mirror's config (credentials are supplied per fetch).
std::string strip_url_userinfo(std::string_view url);

// Current time as RFC 3339 UTC with milliseconds, e.g. 2026-11-23T17:35:16.123Z.
std::string now_rfc3339();

}  // namespace hookyard::util
