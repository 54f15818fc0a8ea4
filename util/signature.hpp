#pragma once
// HMAC-SHA256 signatures as GitHub sends them (X-Hub-Signature-256: sha256=<hex>), compared in constant time.

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace hookyard::util {

// Lower-case hex HMAC-SHA256 of `data` keyed with `key`. Pure.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// Compares two strings in time that depends only on their lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

// The token in a build's Docker Hub callback_url: an HMAC of the build id keyed with `key`, so the
// callback endpoint can verify it without storing anything. Pure.
std::string callback_token(std::string_view key, std::int64_t build_id);

// Checks `header` (the X-Hub-Signature-256 value) against the body. auth errors say what is wrong:
// missing header, not "sha256=<64 hex>", or a mismatch (wrong secret, or the body was altered).
util::Status verify_github_signature(std::string_view secret, std::string_view body, std::string_view header);

}  // namespace hookyard::util
