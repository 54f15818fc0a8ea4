#include "http/status.hpp"

namespace hookyard::http {

bool is_retryable_status(int status) { return status == 408 || status == 429 || status >= 500; }

unsigned status_for(util::ErrorKind kind) {
    switch (kind) {
        case util::ErrorKind::invalid_input:
            return 400;
        case util::ErrorKind::auth:
            return 401;
        case util::ErrorKind::not_found:
            return 404;
        case util::ErrorKind::conflict:
            return 409;
        case util::ErrorKind::transient:
        case util::ErrorKind::timeout:
            return 503;
        default:
            return 500;
    }
}

}  // namespace hookyard::http
