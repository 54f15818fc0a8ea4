#pragma once
// Names of an enum's values from a table in declaration order, instead of one switch per enum.

#include <array>
#include <cstddef>
#include <string_view>

namespace hookyard::util {

// names[i] names the enumerator whose value is i (enumerators numbered 0, 1, … without gaps); `last` is the
// last enumerator, so that a table missing a name does not compile.
template <class Enum, std::size_t N>
struct EnumNames {
    static_assert(N > 0);
    constexpr EnumNames(Enum last, std::array<std::string_view, N> table) : names(table) {
        // A throw in a constant expression fails the build: the table must name every enumerator.
        if (static_cast<std::size_t>(last) + 1 != N) throw "the table must name every enumerator, in order";
    }
    // The name of `value`, or `fallback` for a value outside the enumerators.
    constexpr std::string_view operator()(Enum value, std::string_view fallback) const {
        const auto i = static_cast<std::size_t>(value);
        return i < N ? names[i] : fallback;
    }
    std::array<std::string_view, N> names;
};

}  // namespace hookyard::util
