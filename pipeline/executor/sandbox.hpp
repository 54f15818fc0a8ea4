#pragma once
// The build sandbox: how buildah runs a Dockerfile's RUN steps (see ../../README.md, "Build sandbox").
//   isolation oci:    buildah build --isolation oci --runtime R (global --cgroup-manager M): each RUN step
//                     in its own PID, IPC, UTS, mount and network namespaces (PID and UTS set private by
//                     hookyard's containers.conf, CONTAINERS_CONF, whatever the host's says)
//   network:          --network none, or the filtered CNI bridge of sandbox_network.hpp (same containers.conf)
//   limits:           --cgroup-parent <the build's cgroup>/run, with memory/pids/cpu limits set on the
//                     build's cgroup (build_cgroup.hpp), so they hold for all RUN steps of a build together
//   cache mounts:     TMPDIR per repository, so RUN --mount=type=cache ids never meet another repository's
//   build args:       --build-arg NAME, the value in buildah's environment, never on a command line
// isolation chroot keeps buildah's --isolation chroot: no namespaces, no network filter, no limits.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

struct SandboxOptions {
    config::Isolation isolation = config::Isolation::oci;
    std::string runtime = "runc";             // --runtime (name on PATH or path); probe_oci_runtime picks one
    std::string cgroup_manager = "cgroupfs";  // buildah --cgroup-manager
    // buildah --network: "none", or the network name prepare_filtered_network returned, whose CNI config
    // `containers_conf` (CONTAINERS_CONF) points at.
    std::string network = "none";
    // CONTAINERS_CONF for buildah: write_containers_conf's file; "" = the host's containers.conf.
    std::string containers_conf;
    config::BuilderLimits limits{0, 0, 0};  // per build; zeros = none
    // RUN --mount=type=cache directories live under <cache_mount_root>/<repository key>/; "" = buildah's
    // default, shared by every build on the host.
    std::string cache_mount_root;
};

// The runtime and cgroup manager that start a container on this host.
struct RuntimeChoice {
    std::string runtime;
    std::string cgroup_manager;
    std::vector<std::string> rejected;  // "crun with cgroupfs: <why>", for the log
};

// Tries each installed runtime (runc, then crun) with each cgroup manager (cgroupfs, then systemd) by
// running /usr/bin/true in an empty container (the host's /usr and /lib mounted read-only) with buildah's
// storage `buildah_argv` (argv[0] and --root/--runroot) and environment `env`. Takes about a second.
// Error (not_found) naming every combination tried and why it failed, and what to install.
util::Result<RuntimeChoice> probe_oci_runtime(const std::vector<std::string>& buildah_argv,
                                              const std::map<std::string, std::string>& env);

// The arguments that put `buildah build` into the sandbox (after "build"): isolation, runtime, IPC namespace,
// network (PID and UTS come from containers_conf_text), --cgroup-parent when `cgroup_parent` is not empty, and the
// limits as per-RUN-step flags (memory, cpu; there is none for pids) unless `limits_in_parent` (build_cgroup.hpp holds
// them).
std::vector<std::string> sandbox_build_flags(const SandboxOptions& sandbox, const std::string& cgroup_parent,
                                             bool limits_in_parent);

// hookyard's containers.conf for buildah: PID, IPC and UTS namespaces private (the host's containers.conf
// could set them to "host"), followed by `network_section` ("" or a [network] table).
std::string containers_conf_text(const std::string& network_section);

// Writes containers_conf_text(network_section) to `dir`/containers.conf (creating `dir`); its path, or an
// error (internal) naming the file.
util::Result<std::string> write_containers_conf(const std::string& dir, const std::string& network_section);

// A short description for the start-up log, e.g. "oci (runc, cgroupfs), network private, memory 4 GiB, ...".
std::string describe(const SandboxOptions& sandbox);

// A directory name for the repository whose image is `docker_repo` (hex of a hash plus a readable tail).
std::string cache_scope_key(const std::string& docker_repo);

}  // namespace hookyard::pipeline
