#include "util/result.hpp"

namespace hookyard::util {

std::string_view to_string(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::invalid_input:
            return "invalid input";
        case ErrorKind::auth:
            return "auth";
        case ErrorKind::not_found:
            return "not found";
        case ErrorKind::conflict:
            return "conflict";
        case ErrorKind::transient:
            return "transient";
        case ErrorKind::timeout:
            return "timeout";
        case ErrorKind::canceled:
            return "canceled";
        case ErrorKind::internal:
            return "internal";
    }
    return "internal";
}

}  // namespace hookyard::util
