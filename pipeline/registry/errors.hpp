#pragma once
// Turning registry answers into errors a user can act on: the distribution spec's error body
// ({"errors":[{"code","message"}]}), status codes, Retry-After.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "http/client.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

struct RegistryErrorEntry {
    std::string code;  // e.g. NAME_UNKNOWN, DENIED, TAG_INVALID, BLOB_UNKNOWN
    std::string message;
};

// Parses an error body; returns an empty list when the body is not the spec's error JSON.
std::vector<RegistryErrorEntry> parse_error_body(std::string_view body);

// What was being done, for the message.
struct ErrorContext {
    std::string registry;    // host as the user wrote it, e.g. docker.io
    std::string repository;  // e.g. acme/web
    std::string tag;         // set while pushing a manifest to a tag
    bool anonymous = false;  // no credentials were configured
};

// Maps a non-success response to an Error: 401/403 → auth ("credentials for <registry> were refused",
// or "push … was denied" for DENIED / insufficient scope), NAME_UNKNOWN → not_found ("repository <x> does
// not exist; create it first"), TAG_INVALID → invalid_input, 408/429/5xx → transient, anything else →
// invalid_input with the registry's code and message. `what` names the operation ("uploading blob …").
util::Error response_error(const http::Response& response, std::string_view what, const ErrorContext& context);

using http::is_retryable_status;  // shared with the other HTTP clients: http/status.hpp

// The delay a Retry-After header asks for (delta-seconds form), capped at `cap`; 0 when absent.
std::chrono::milliseconds retry_after(const http::Response& response, std::chrono::milliseconds cap);

}  // namespace hookyard::pipeline
