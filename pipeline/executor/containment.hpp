#pragma once
// Containment: no build process outlives the hookyard instance that started it. Every child dies with
// hookyard (PR_SET_PDEATHSIG, child_process.hpp); what it started in turn (buildah's RUN steps) is
// reached through a cgroup v2 directory per build under <cgroup2 mount>/hookyard/<instance>, where
// <instance> is derived from the data dir, so a restarted instance finds exactly its own leftovers. Where
// no cgroup can be made, each child's process group is journaled in <data_dir>/run/process-groups with the
// boot id and the leader's start time, which keep it unambiguous after a restart or a reboot.

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pipeline/executor/child_process.hpp"

namespace hookyard::pipeline {

struct ContainmentOptions {
    std::string data_dir;     // the instance's identity and where the process-group journal lives
    std::string cgroup_root;  // parent of the instances' cgroups; "" = <cgroup2 mount>/hookyard, "none" = off
};

class ProcessContainment;

// The processes of one build or hook run. Destroying it kills whatever is left of them and removes the
// build's cgroup. Thread-compatible: one build uses it from one thread.
class ContainmentScope {
public:
    ContainmentScope(std::shared_ptr<ProcessContainment> owner, std::string cgroup);
    ~ContainmentScope();
    ContainmentScope(const ContainmentScope&) = delete;
    ContainmentScope& operator=(const ContainmentScope&) = delete;

    // What run_child needs to put a child into this scope.
    ChildPlacement placement() const;
    const std::string& cgroup() const { return m_cgroup; }

private:
    std::shared_ptr<ProcessContainment> m_owner;
    std::string m_cgroup;  // "" in process-group mode
};

class ProcessContainment : public std::enable_shared_from_this<ProcessContainment> {
public:
    // Never fails: without a writable cgroup v2 hierarchy it falls back to journaled process groups.
    static std::shared_ptr<ProcessContainment> make(ContainmentOptions options);

    // "cgroup <dir>" or "process groups (<why no cgroup>)", for the start-up log.
    std::string describe() const;
    bool uses_cgroups() const { return !m_instance_cgroup.empty(); }
    // This instance's cgroup directory, parent of every build scope's; "" in process-group mode.
    const std::string& instance_cgroup() const { return m_instance_cgroup; }

    // A fresh scope named after `name` (e.g. the build id). Thread-safe.
    std::unique_ptr<ContainmentScope> open(const std::string& name);

    // Kills everything a previous run of this instance (same data dir) left on this host: every process of
    // its leftover cgroups, and the journaled process groups whose boot id and start time still match.
    // Removes the cgroups and clears the journal. Returns one human-readable line per process killed.
    // Call at start, before any build runs.
    std::vector<std::string> kill_leftovers();

    // Journal of process groups (process-group mode); both are thread-safe, record() is durable.
    util::Status record(pid_t pgid);
    void forget(pid_t pgid);

private:
    explicit ProcessContainment(ContainmentOptions options);
    std::vector<std::string> kill_journaled();

    ContainmentOptions m_options;
    std::string m_instance_cgroup;  // "" = process-group mode
    std::string m_why_not;          // why there is no cgroup
    std::string m_journal;
    std::string m_boot_id;
    std::mutex m_mutex;
    unsigned long m_next = 0;
};

// Kills every process of the cgroup `dir` (cgroup.kill, else SIGKILL to each listed pid until none is
// left), waits up to a few seconds for it to empty and removes it. Returns the pids it saw there.
std::vector<pid_t> kill_cgroup(const std::string& dir);

// The path of cgroup2 directory `dir` relative to the cgroup2 mount ("/hookyard/i…/b…"); "" when `dir` is
// not below it. The same relative path names the build's cgroup in the cgroup v1 hierarchies.
std::string cgroup_relative(const std::string& dir);

// The command line of `pid` with NULs as spaces, "" when gone.
std::string process_cmdline(pid_t pid);

}  // namespace hookyard::pipeline
