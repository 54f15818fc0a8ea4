#pragma once
// The one way the service turns JSON into text. Strings that came from outside (build logs, commit
// messages, error text from a pushed Dockerfile) may hold bytes that are not UTF-8; a strict dump throws on
// them, so every writer goes through here and such bytes become U+FFFD instead.

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace hookyard::util {

// Compact JSON text of `value`; invalid UTF-8 in strings is replaced by U+FFFD. Never throws type errors.
std::string to_json_string(const nlohmann::json& value);

// The string at `key` of `object`; "" when `object` is no object or the value is missing or not a string.
std::string json_string(const nlohmann::json& object, const char* key);

// The longest prefix of `text` of at most `max_bytes` bytes that does not end inside a UTF-8 sequence.
std::string_view truncate_utf8(std::string_view text, std::size_t max_bytes);

}  // namespace hookyard::util
