#pragma once
// GitHub webhook payloads: decoding (JSON or form-encoded with the JSON in `payload`) and the push event.
// Pure functions; errors are invalid_input with a message naming the problem.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace hookyard::webhook {

// Deepest JSON nesting accepted; GitHub's payloads stay far below it.
constexpr int k_max_json_depth = 64;

// Parses the body by Content-Type: application/json (or none), or application/x-www-form-urlencoded
// with the JSON in the `payload` field. Rejects nesting deeper than k_max_json_depth, invalid UTF-8 and
// malformed JSON, saying where.
util::Result<nlohmann::json> decode_payload(std::string_view content_type, std::string_view body);

// Decodes application/x-www-form-urlencoded text into the value of `field`; invalid_input when absent.
util::Result<std::string> form_field(std::string_view body, std::string_view field);

struct PushEvent {
    std::string repository;  // repository.full_name
    std::string clone_url;   // repository.clone_url
    std::string ref;         // refs/heads/main
    std::string after;       // the pushed commit
    bool deleted = false;
    std::string head_commit_message;
    std::string pusher;
    std::vector<std::string> changed_files;  // union of commits[].added/modified/removed, first-seen order
};

// Extracts a push event; invalid_input naming the first missing or mistyped field.
util::Result<PushEvent> parse_push(const nlohmann::json& payload);

}  // namespace hookyard::webhook
