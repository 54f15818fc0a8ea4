#pragma once
// What `hookyard serve` does about the build sandbox before its first build (see sandbox.hpp).

#include <string>
#include <vector>

#include "config/model.hpp"
#include "pipeline/executor/buildah_executor.hpp"

namespace hookyard::pipeline {

struct PreparedSandbox {
    SandboxOptions options;
    std::vector<std::string> notes;     // for the log: the runtime chosen, the combinations rejected, the network
    std::vector<std::string> warnings;  // for the log as warnings: chroot, limits that could not be enforced
};

// From the builder config: probes the OCI runtime (isolation oci; runtime_probe_cache.hpp keeps the
// answer for this boot), installs the filtered network (mode private) under <data_dir>/run, and sets the
// limits and the cache mount root (<data_dir>/cache-mounts). Removes what killed builds left: registry
// credentials (registry_auth.hpp), CNI addresses and NAT chains (cni_leftovers.hpp). `buildah` carries the program,
// storage flags and environment the builds will use. Fails closed: an error names what is missing whenever isolation
// oci or network private cannot be had; with isolation chroot it never fails (and warns).
util::Result<PreparedSandbox> prepare_sandbox(const config::Config& config, const BuildahOptions& buildah);

}  // namespace hookyard::pipeline
