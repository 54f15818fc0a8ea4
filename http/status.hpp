#pragma once
// HTTP status helpers shared by both directions: the client side (registry, outbound webhooks) decides
// what to retry, the server side maps an error's kind to the status that names its class.

#include "util/result.hpp"

namespace hookyard::http {

// True for responses worth retrying: 408, 429 and 5xx. Other 4xx are the peer's final answer. Pure.
bool is_retryable_status(int status);

// The status an error of `kind` is answered with: invalid_input 400, auth 401, not_found 404,
// conflict 409, transient/timeout 503, anything else 500. Pure.
unsigned status_for(util::ErrorKind kind);

}  // namespace hookyard::http
