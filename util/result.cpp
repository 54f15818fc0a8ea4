#include "util/result.hpp"

#include "util/enum_name.hpp"

namespace hookyard::util {

std::string_view to_string(ErrorKind kind) {
    static constexpr EnumNames k_names(ErrorKind::internal,
                                       std::array<std::string_view, 8>{"invalid input", "auth", "not found", "conflict",
                                                                       "transient", "timeout", "canceled", "internal"});
    return k_names(kind, "internal");
}

}  // namespace hookyard::util
