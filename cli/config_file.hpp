#pragma once
// Loading the config named on the command line, the same way for every subcommand.

#include <optional>
#include <string>

#include "config/model.hpp"

namespace hookyard::cli {

// Loads and validates the config at `path`. On failure prints every diagnostic as a "FILE:LINE: message"
// line to stderr (then "N problem(s) found" when `count_problems`) and returns nothing: the caller exits
// with code 2.
std::optional<config::Config> load_config_or_report(const std::string& path, bool count_problems = false);

}  // namespace hookyard::cli
