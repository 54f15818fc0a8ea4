#pragma once
// Splitting text at a separator character.

#include <string_view>
#include <vector>

namespace hookyard::util {

// The parts of `text` between the `separator` characters, empty parts included: "a..b" → {"a", "", "b"},
// "" → {""}. The views point into `text`.
inline std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        const auto at = text.find(separator, start);
        parts.push_back(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
        if (at == std::string_view::npos) return parts;
        start = at + 1;
    }
}

}  // namespace hookyard::util
