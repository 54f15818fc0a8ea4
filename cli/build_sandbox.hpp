#pragma once
// The build sandbox as `hookyard serve`, `hookyard build` and `hookyard build-local -c` set it up: one path
// for the three, so a build on the command line runs exactly as the service would run it.

#include "config/model.hpp"
#include "pipeline/executor/sandbox.hpp"
#include "util/result.hpp"

namespace hookyard::cli {

// The sandbox for the builder: section of `cfg` (pipeline::prepare_sandbox: runtime probe, filtered network,
// limits, leftover credentials removed), or an error naming what is missing: no build runs without isolation
// unless the config says chroot (fail closed). Logs what was chosen and every warning.
util::Result<pipeline::SandboxOptions> start_sandbox(const config::Config& cfg);

}  // namespace hookyard::cli
