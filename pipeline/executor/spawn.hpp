#pragma once
// Starting one child so that it cannot outlive hookyard: internal to child_process.cpp.

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace hookyard::pipeline {

struct SpawnPlan {
    std::string program;                     // absolute path, already looked up
    std::vector<std::string> argv;           // argv[0] as the child sees it
    std::map<std::string, std::string> env;  // the whole environment
    std::string cwd;                         // empty = inherit
    int out_fd = -1;                         // becomes the child's stdout and stderr
    std::string cgroup;                      // cgroup v2 directory the child joins before exec; "" = none
    bool hold = false;                       // the child waits for release() before it execs
};

// A started child: its pid is also its process group id.
class SpawnedChild {
public:
    SpawnedChild() = default;
    ~SpawnedChild();
    SpawnedChild(SpawnedChild&& other) noexcept;
    SpawnedChild& operator=(SpawnedChild&&) = delete;
    SpawnedChild(const SpawnedChild&) = delete;

    pid_t pid() const { return m_pid; }
    // Lets a held child go on to exec; returns 0 or the errno of a failed exec (the child is then reaped).
    // Without hold it only reports the exec's outcome. Call once.
    int release();

private:
    friend int spawn_contained(const SpawnPlan& plan, SpawnedChild& out);
    pid_t m_pid = -1;
    int m_go_fd = -1;     // write end: one byte lets a held child exec
    int m_error_fd = -1;  // read end: the child's errno when it could not exec, EOF on exec
};

// Forks the child in a new process group with PR_SET_PDEATHSIG(SIGKILL) (it dies with the thread that
// spawns it, so call from a thread that outlives the child, as run_child does), joins plan.cgroup, resets
// signal dispositions and mask, gives it /dev/null as stdin, out_fd as stdout/stderr and no other file
// descriptor, then execs (after release() when plan.hold). Returns 0 and fills `out`, or an errno value.
int spawn_contained(const SpawnPlan& plan, SpawnedChild& out);

}  // namespace hookyard::pipeline
