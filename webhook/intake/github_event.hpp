#pragma once
// GitHub webhook payloads: decoding (JSON, or form-encoded with the JSON in `payload`) straight into the
// few fields hookyard uses. A streaming (SAX) parse: the payload is validated in full (malformed JSON,
// invalid UTF-8, nesting deeper than k_max_json_depth are rejected) but no document tree is built.
// Pure functions; errors are invalid_input with a message naming the problem.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace hookyard::intake {

// Deepest JSON nesting accepted; GitHub's payloads stay far below it.
constexpr int k_max_json_depth = 64;
// Longest ref built (git allows more, but no registry tag or rule needs it); longer refs are not built.
constexpr std::size_t k_max_ref_bytes = 255;

// The fields of a pull_request delivery hookyard reads (besides repository.*).
struct PullRequestFields {
    std::string action;  // opened | synchronize | reopened | closed | …
    std::uint64_t number = 0;
    std::string head_sha;   // pull_request.head.sha
    std::string head_repo;  // pull_request.head.repo.full_name; "" when the fork was deleted (repo: null)
    std::string head_ref;   // pull_request.head.ref, for people
    std::string base_ref;   // pull_request.base.ref: the branch it merges into
    std::string title;
    std::string sender;  // sender.login
};

// The fields of a delivery hookyard reads (a push's, plus ping's zen). Absent fields stay empty.
struct PushEvent {
    std::string repository;  // repository.full_name
    std::string clone_url;   // repository.clone_url
    std::string ref;         // refs/heads/main
    std::string after;       // the pushed commit
    bool deleted = false;
    bool forced = false;  // the push rewrote the branch's history
    std::string head_commit_message;
    std::string pusher;                      // pusher.name
    std::vector<std::string> changed_files;  // union of commits[].added/modified/removed, first-seen order
    std::string zen;                         // ping only
    PullRequestFields pr;                    // pull_request only
};

// Parses the body by Content-Type: application/json (or none), or application/x-www-form-urlencoded
// with the JSON in the `payload` field. The top level must be a JSON object.
util::Result<PushEvent> parse_payload(std::string_view content_type, std::string_view body);

// invalid_input naming the first field a push needs but lacks (repository.full_name, ref, after), or an
// `after` that is not 40 hexadecimal characters (it goes into URLs and git commands); deletions keep any `after`.
util::Status check_push(const PushEvent& push);

// invalid_input naming the first field a pull_request event needs but lacks (repository.full_name, action,
// number, and for the actions that build: pull_request.head.sha as 40 hexadecimal characters, base.ref).
util::Status check_pull_request(const PushEvent& event);

// Decodes application/x-www-form-urlencoded text into the value of `field`; invalid_input when absent.
util::Result<std::string> form_field(std::string_view body, std::string_view field);

}  // namespace hookyard::intake
