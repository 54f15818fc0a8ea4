#pragma once
// The default Executor: drives the buildah CLI (Debian package `buildah`).
//
// A build runs, each step in its own process group, all of them in the build's containment scope:
//   hooks/post_checkout, hooks/pre_build                       (when request.hooks and the file exists)
//   buildah build <sandbox flags> [--authfile CREDS/auth.json] --layers=<cache> --force-rm -f DOCKERFILE
//                 --iidfile WORK/iid
//                 --build-arg K ... CONTEXT                     (or hooks/build, which must produce IMAGE_NAME)
//                 (sandbox.hpp: isolation, runtime, network, cgroup parent; the build args' values are in
//                 buildah's environment, never on its command line)
//   hooks/post_build
//   buildah push --digestfile WORK/digest IMAGE oci:LAYOUT:REF
//   buildah rmi IMAGE                                          (only when cache is off)
// The build is not tagged: it is addressed by its image id, so concurrent builds never share a name and
// the layer cache (intermediate and final images, untagged) stays in buildah's storage when cache is on.
// `buildah rmi` of a tag would also delete the untagged parent layers, i.e. the cache.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/executor/containment.hpp"
#include "pipeline/executor/executor.hpp"
#include "pipeline/executor/registry_auth.hpp"
#include "pipeline/executor/sandbox.hpp"

namespace hookyard::pipeline {

struct BuildahOptions {
    std::string buildah = "buildah";  // program name (looked up in env's PATH) or absolute path
    std::string root;                 // --root (storage root); empty = buildah's default
    std::string runroot;              // --runroot (storage state); empty = buildah's default
    // The whole environment of buildah and of hooks (hooks also get the Docker Hub variables and build
    // args). PATH defaults to the standard system path when missing; nothing else is inherited.
    std::map<std::string, std::string> env;
    std::chrono::milliseconds kill_grace{10000};  // SIGTERM → SIGKILL delay on cancel and timeout
    std::vector<std::string> extra_build_flags;   // appended to `buildah build`, e.g. "--pull=never"
    // Puts each build's (and each hook run's) processes in a scope that dies with hookyard; null = only
    // their own process group (they still die with hookyard, their descendants may not).
    std::shared_ptr<ProcessContainment> containment;
    // How RUN steps are isolated. The default (oci, runc, cgroupfs, no network, no limits) needs runc;
    // `hookyard serve` probes the runtime and sets the network and limits from builder: in the config.
    SandboxOptions sandbox;
    // The registries FROM images are pulled from, with their credentials (registry_auth.hpp), and where each
    // build's credential files go ("" = the system temp dir; `hookyard serve`: <data_dir>/run/credentials).
    std::vector<PullRegistry> pull_registries;
    std::string credentials_root;
};

// Creates the buildah executor. Never fails: a missing buildah is reported by each build's wait() as
// not_found "buildah is not installed; install the Debian package buildah".
std::unique_ptr<Executor> make_buildah_executor(BuildahOptions options);

}  // namespace hookyard::pipeline
