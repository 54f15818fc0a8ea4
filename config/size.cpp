#include "config/size.hpp"

#include <array>
#include <cctype>
#include <limits>
#include <string>
#include <utility>

namespace hookyard::config {
namespace {

std::string lower(std::string_view s) {
    std::string out;
    for (char c : s) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    return out;
}

std::optional<std::uint64_t> multiplier(std::string_view suffix) {
    static const std::array<std::pair<const char*, std::uint64_t>, 14> k_units = {{
        {"", 1},
        {"b", 1},
        {"k", 1000},
        {"kb", 1000},
        {"m", 1000 * 1000},
        {"mb", 1000 * 1000},
        {"g", 1000ULL * 1000 * 1000},
        {"gb", 1000ULL * 1000 * 1000},
        {"tb", 1000ULL * 1000 * 1000 * 1000},
        {"kib", 1024},
        {"mib", 1024 * 1024},
        {"gib", 1024ULL * 1024 * 1024},
        {"tib", 1024ULL * 1024 * 1024 * 1024},
        {"t", 1000ULL * 1000 * 1000 * 1000},
    }};
    const std::string s = lower(suffix);
    for (const auto& [name, value] : k_units) {
        if (s == name) return value;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    std::size_t i = 0;
    std::uint64_t number = 0;
    for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
        const std::uint64_t digit = static_cast<std::uint64_t>(text[i] - '0');
        if (number > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
        number = number * 10 + digit;
    }
    if (i == 0) return std::nullopt;
    std::string_view suffix = text.substr(i);
    while (!suffix.empty() && suffix.front() == ' ') suffix.remove_prefix(1);
    const auto mul = multiplier(suffix);
    if (!mul) return std::nullopt;
    if (number > std::numeric_limits<std::uint64_t>::max() / *mul) return std::nullopt;
    return number * *mul;
}

}  // namespace hookyard::config
