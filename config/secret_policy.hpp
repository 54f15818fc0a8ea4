#pragma once
// What the loader accepts as a secret: the webhook secret must be set, no secret may be a placeholder
// left from an example (`change-me…`), and secrets shorter than 16 characters earn a warning.

#include <yaml-cpp/yaml.h>

#include "config/diagnostics.hpp"
#include "config/model.hpp"

namespace hookyard::config {

// Secrets shorter than this are guessable enough to warn about (they still load).
constexpr std::size_t k_min_secret_length = 16;

// Adds an error for an empty server.webhook_secret and for any secret starting with "change-me", and a
// warning for each non-empty secret shorter than k_min_secret_length. Messages never quote a secret.
// An empty api_token (API disabled) and empty optional secrets are fine.
void check_secrets(const YAML::Node& root, const Config& c, Diagnostics& diags);

}  // namespace hookyard::config
