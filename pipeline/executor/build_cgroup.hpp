#pragma once
// Per-build resource limits for RUN steps. Under OCI isolation the runtime puts each RUN container in the
// cgroup buildah's --cgroup-parent names, in every hierarchy; hookyard passes <build cgroup>/run, where the
// build cgroup is the path of the build's containment scope (containment.hpp) relative to the hierarchy
// roots. On a hybrid host the memory, pids and cpu controllers live on cgroup v1, not on the cgroup2
// hierarchy containment uses, so the limits go on the build cgroup in those v1 hierarchies: they are
// hierarchical, hence hold for all of a build's RUN steps together. Where a controller has no v1 hierarchy
// the limit is not applied here (the executor falls back to buildah's per-container flags).

#include <string>
#include <vector>

#include "config/model.hpp"

namespace hookyard::pipeline {

// The CFS period both CPU limits use (cgroup cpu.cfs_period_us here, runc's --cpu-period in sandbox.cpp):
// a quota of cpus × this period.
inline constexpr long k_cpu_period_us = 100000;

class BuildCgroup {
public:
    // `relative` is the build's cgroup path relative to every hierarchy's root, e.g. /hookyard/i…/b7-123-0.
    // Creates it in the v1 hierarchies of memory, pids and cpu and writes `limits` (zeros = none); creates
    // nothing when `relative` is not below /hookyard/.
    BuildCgroup(std::string relative, const config::BuilderLimits& limits);
    // Kills whatever is left in the build cgroup in every v1 hierarchy and removes it there.
    ~BuildCgroup();
    BuildCgroup(const BuildCgroup&) = delete;
    BuildCgroup& operator=(const BuildCgroup&) = delete;

    // For buildah --cgroup-parent.
    std::string cgroup_parent() const { return m_relative + "/run"; }
    // True when every non-zero limit was written to a v1 controller.
    bool applied() const { return m_missing.empty(); }
    // The limits that could not be set here, e.g. "pids (no cgroup v1 pids hierarchy)"; "" when none.
    const std::string& missing() const { return m_missing; }
    // Why the build's RUN steps failed when it was a limit: "RUN steps ran out of memory: ..." naming the
    // limit and the config key; "" when no limit was hit.
    std::string exceeded() const;
    // When the RUN steps have hit the process limit (a fork bomb, or a build that needs a higher limit),
    // kills every process of them so the build fails now instead of at its timeout. True when it did.
    bool stop_at_pids_limit();

private:
    bool at_pids_limit() const;

    std::string m_relative;
    config::BuilderLimits m_limits;
    std::string m_memory_dir;  // "" = no memory limit here
    std::string m_pids_dir;
    std::string m_missing;
};

// The mount point of the cgroup v1 hierarchy holding `controller` ("memory", "pids", "cpu"), "" when none.
std::string cgroup_v1_mount(const std::string& controller);

// Kills every process in cgroup `relative` (and below it) in every cgroup v1 hierarchy and removes it there.
// Does nothing unless `relative` is below /hookyard/.
void remove_v1_cgroup(const std::string& relative);

}  // namespace hookyard::pipeline
