#pragma once
// Loading and validating hookyard.yaml (JSON loads too: it is YAML).

#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.hpp"
#include "config/model.hpp"
#include "config/yaml_reader.hpp"

namespace hookyard::config {

struct LoadOutcome {
    std::optional<Config> config;         // set only when `diagnostics` is empty
    std::vector<Diagnostic> diagnostics;  // every problem found, in file order; never contains a secret
    std::vector<Diagnostic> warnings;     // problems that do not stop loading (e.g. a short secret)
};

// Reads and validates the file at `path`. Never throws; an unreadable file is one diagnostic.
// Applies the PrimeHub-style overrides HOOKYARD_REGISTRY_ENDPOINT/_USERNAME/_PASSWORD/_PUSH_REPO/
// _PUSH_REPO_PREFIX from `env` (see README, "Configuration").
LoadOutcome load_config_file(const std::string& path, const EnvLookup& env = process_env());

// Same, from text; `file_name` is used in diagnostics.
LoadOutcome load_config_text(const std::string& text, const std::string& file_name,
                             const EnvLookup& env = process_env());

// One line describing a valid config, without secrets, e.g.
// "hookyard.yaml: valid: 2 registries, 3 repositories (7 rules), 1 subscriber".
std::string summarize(const Config& config);

}  // namespace hookyard::config
