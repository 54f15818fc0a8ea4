#pragma once
// Docker Hub custom build hooks: hooks/<name> in the Dockerfile's directory, run there with the Docker Hub
// variables and the build args in the environment. A hook file with a #! line is executed directly when it
// is executable, else run by the interpreter on its #! line; a file without a #! line is run by /bin/sh.
// Repositories often lose the executable bit (e.g. Windows checkouts) or the #! line, and Docker Hub ran
// such hooks anyway.

#include <map>
#include <string>
#include <vector>

#include "pipeline/executor/child_process.hpp"
#include "pipeline/executor/executor.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

// The hook's file (<dir of request.dockerfile>/hooks/<name>), or "" when it does not exist.
std::string hook_path(const BuildRequest& request, Hook hook);

// The command line that runs the hook file at `path` (see the header comment).
std::vector<std::string> hook_command(const std::string& path);

// The hook's environment: `base` (PATH, HOME, ...), then the Docker Hub variables, then the build args
// (a rule's build arg overrides a Docker Hub variable of the same name, as it does for the build).
std::map<std::string, std::string> hook_environment(const BuildRequest& request,
                                                    const std::map<std::string, std::string>& base);

// Runs the hook when request.hooks is set and its file exists (success without running otherwise).
// `ran`, when given, is set to whether it ran. Errors: invalid_input "hooks/<name> failed with exit
// code N", internal when killed by a signal we did not send, timeout, canceled. Blocking. The hook's
// processes run in `placement` (see child_process.hpp).
util::Status run_hook_file(Hook hook, const BuildRequest& request, const std::map<std::string, std::string>& base_env,
                           const LogSink& sink, const ChildLimits& limits, const CancelSignal& cancel,
                           bool* ran = nullptr, const ChildPlacement& placement = {});

}  // namespace hookyard::pipeline
