#pragma once
// The REST API's JSON form of a build (DESIGN.md "HTTP"): timestamps RFC 3339 UTC, null when unset.
// Credentials never appear: clone URLs are redacted and build args are left out.

#include <nlohmann/json.hpp>

#include "storage/records.hpp"

namespace hookyard::storage {

nlohmann::json build_to_json(const storage::Build& build);

}  // namespace hookyard::storage
