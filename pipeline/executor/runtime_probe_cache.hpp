#pragma once
// probe_oci_runtime's answer (sandbox.hpp) belongs to the host, not to a build: `hookyard build` and
// `hookyard build-local` would pay for it (about a second, three on a loaded host) at every run. A success
// is kept in <run_dir>/sandbox/runtime-probe under a key that changes with everything the answer depends
// on: the boot (kernel, cgroup layout, modules), buildah's command line (storage), and the path, size and
// modification time of buildah, runc and crun. Any change probes again; a failure is never kept, so fail
// closed still holds.

#include <map>
#include <string>
#include <vector>

#include "pipeline/executor/sandbox.hpp"

namespace hookyard::pipeline {

// The key for `buildah_argv` and the programs found in env's PATH.
std::string runtime_probe_key(const std::vector<std::string>& buildah_argv,
                              const std::map<std::string, std::string>& env);

// probe_oci_runtime, answered from the cache under `run_dir` when its key matches; `cached` (may be null)
// says which. A fresh success is written to the cache (best effort).
util::Result<RuntimeChoice> probe_oci_runtime_cached(const std::string& run_dir,
                                                     const std::vector<std::string>& buildah_argv,
                                                     const std::map<std::string, std::string>& env, bool* cached);

}  // namespace hookyard::pipeline
