#pragma once
// buildah working containers that killed builds left. `buildah build --force-rm` removes a build's working
// containers when it ends, also on SIGTERM (what cancel and timeout send first); a buildah killed with
// SIGKILL (kill -9 of hookyard, which takes buildah with it; a grace period that ran out) leaves them in
// buildah's storage for good, and several hundred of them make buildah 1.28 panic in every later build.
//
// A container is hookyard's when its build ran with --cgroup-parent below this instance's containment
// cgroup (recorded by buildah in the container's buildah.json, CommonBuildOpts.CgroupParent:
// "/hookyard/<instance>/<build scope>/run"), and in use while that build scope's cgroup exists: the scope
// is created before buildah starts and removed after everything of the build has exited (containment.hpp).
// Containers of other programs, people, or other hookyard instances (another data dir) are never touched.
// Builds without a containment cgroup (process-group mode, isolation chroot) carry no such mark: their
// leftovers are not found.

#include <string>
#include <vector>

#include "pipeline/executor/buildah_executor.hpp"

namespace hookyard::pipeline {

struct RemovedContainers {
    std::vector<std::string> removed;   // "4335a062a5c4 (working-container-3, build scope b12-345-0)"
    std::vector<std::string> problems;  // what could not be listed or removed, for the log
};

// Removes the working containers in `options`' buildah storage that builds of `options.containment` left
// (see above); nothing without a containment cgroup. Blocking (runs buildah); serialised within this
// process, so concurrent calls never race to remove the same container.
RemovedContainers remove_buildah_leftovers(const BuildahOptions& options);

// The build scope cgroup (relative to `instance_relative`, e.g. "b12-345-0") that `cgroup_parent` (a
// container's --cgroup-parent) lies below, "" when it is not below `instance_relative`.
std::string leftover_build_scope(const std::string& cgroup_parent, const std::string& instance_relative);

// Logs what `remove_buildah_leftovers` did (one info line with the count and ids, a warning per problem),
// `when` says why it ran ("at start", "after build 12").
void log_removed_containers(const RemovedContainers& removed, const std::string& when);

}  // namespace hookyard::pipeline
