#pragma once
// The test stage (Docker Hub's "autotest"), run by the buildah executor after the build and before the push:
//   hooks/pre_test                                          (when request.hooks and the file exists)
//   every *.test.yml next to the Dockerfile, in name order (compose.hpp: the Compose subset), or hooks/test
//   instead of them when hooks are on and it exists; for each file:
//     sut's depends_on services, then sut, each in a buildah container in the build sandbox (sandbox.hpp):
//       buildah from <sandbox flags> [--authfile CREDS] --name hookyard-test-… IMAGE
//       buildah run --isolation oci --runtime R --network N [-e K=V] [--workingdir D] CONTAINER -- ARGV
//     IMAGE is the image under test (by id from buildah's storage, else its OCI layout) or, for another
//     image: of a dependency, that image pulled from a configured registry (with the build's pull
//     credentials; any other registry is an error). ARGV is the service's entrypoint/command over the
//     image's, by Docker's rule.
//     A file with depends_on runs in a network namespace of its own, held by `unshare --net`: loopback only
//     (no outbound network), every service name resolves to 127.0.0.1 through a generated /etc/hosts, so
//     `http://web:8080` reaches the web service. Without depends_on sut gets the build's network.
//     Dependencies run in the background until sut exits; sut's exit code is the test's.
//     Every container is removed (buildah rm) and the namespace's holder killed afterwards, also on failure,
//     timeout and cancel.
//   hooks/post_test
// The first failing file fails the stage (invalid_input naming the file, the exit code and sut's last
// output lines); the output of every container streams into the log as "<service> | <line>".
// Why buildah and not podman: buildah is already the build engine and its flags already are the sandbox;
// Debian's podman 4.3 with runc cannot start a container here (runc fails setting RLIMIT_NOFILE for the
// container) and its pods need the catatonit package.

#include "pipeline/executor/buildah_executor.hpp"
#include "pipeline/executor/executor.hpp"

namespace hookyard::pipeline {

// True when the build has tests: a *.test.yml next to request.dockerfile, or hooks on and hooks/test there.
bool has_tests(const BuildRequest& request);

// Removes the test containers (hookyard-test-<build>-<pid>-<n>) in `buildah`'s storage whose hookyard process
// <pid> is gone: a killed hookyard could not remove them. Returns how many it removed. Blocking (buildah).
// The first test stage of each process runs it (not serve's start-up, which it would slow down).
int remove_stale_test_containers(const BuildahOptions& buildah);

}  // namespace hookyard::pipeline
