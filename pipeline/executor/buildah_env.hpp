#pragma once
// Which environment buildah and hooks get when the service runs them.

#include <cstdlib>
#include <functional>

#include "pipeline/executor/buildah_executor.hpp"

namespace hookyard::pipeline {

// Reads one environment variable; nullptr when unset (std::getenv's contract).
using GetEnv = std::function<const char*(const char*)>;

// Buildah options whose env is the service's policy: the search path, HOME (default /root), and, when the
// service has them, REGISTRY_AUTH_FILE (private base images), TMPDIR and the proxy variables (both
// spellings). Nothing else of the service's environment reaches a build.
BuildahOptions buildah_options_from_environment(const GetEnv& getenv = [](const char* name) {
    return std::getenv(name);
});

}  // namespace hookyard::pipeline
