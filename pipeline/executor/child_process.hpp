#pragma once
// Runs one child process in its own process group with an explicit environment, streams its merged
// stdout+stderr line by line, and kills the whole group on cancel or deadline. The child dies with
// hookyard (PR_SET_PDEATHSIG) and, placed in a cgroup, so does everything it starts (see containment.hpp).
// Used by the executor for buildah and for hooks.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "pipeline/executor/executor.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

// A cancel request that can wake a blocked child supervisor at once (a self-pipe). Thread-safe.
class CancelSignal {
public:
    CancelSignal();
    ~CancelSignal();
    CancelSignal(const CancelSignal&) = delete;
    CancelSignal& operator=(const CancelSignal&) = delete;

    // Marks the signal as raised and wakes any supervisor polling fd(). Idempotent.
    void raise();
    bool raised() const { return m_raised.load(); }
    // Readable once raise() was called; for poll().
    int fd() const { return m_pipe[0]; }

private:
    std::atomic<bool> m_raised{false};
    int m_pipe[2] = {-1, -1};
};

// Where a child runs so that nothing it starts outlives hookyard unseen (containment.hpp fills it).
struct ChildPlacement {
    std::string cgroup;  // cgroup v2 directory the child joins before it execs; "" = none
    // Called with the child's pid (= its process group id) after it is placed and before it execs, e.g. to
    // record it durably; an error kills the child and fails the start. May be empty.
    std::function<util::Status(pid_t)> on_spawn;
    // Called once the child is reaped and its group killed, when on_spawn succeeded. May be empty.
    std::function<void(pid_t)> on_reaped;
    // Kills every process of the placement (the cgroup) at once; used after the leader exits and for the
    // final SIGKILL of a cancel. May be empty.
    std::function<void()> kill_all;
};

struct ChildSpec {
    std::vector<std::string> argv;           // argv[0] is a path or a name looked up in env's PATH
    std::map<std::string, std::string> env;  // the child's whole environment
    std::string cwd;                         // working directory; empty = inherit
    ChildPlacement placement;                // default: own process group only
};

// How a child ended. exit_code is valid when signal == 0.
struct ChildOutcome {
    int exit_code = 0;
    int signal = 0;          // the terminating signal, 0 when it exited
    bool timed_out = false;  // we killed it because the deadline passed
    bool canceled = false;   // we killed it because the CancelSignal was raised
    bool ok() const { return signal == 0 && exit_code == 0 && !timed_out && !canceled; }
};

struct ChildLimits {
    std::chrono::steady_clock::time_point deadline;  // SIGTERM to the group when passed
    std::chrono::milliseconds grace{10000};          // then SIGKILL after this long
};

// Looks `program` up in the PATH of `env` (or returns it when it contains '/'); "" when not found or not
// executable.
std::string find_program(const std::string& program, const std::map<std::string, std::string>& env);

// Spawns `spec` in a new process group (from the calling thread, whose exit kills the child), feeds each output line to
// `sink`, and returns once the child has exited and no process of its group is left (stragglers get SIGKILL). On cancel
// or deadline the group gets SIGTERM, then SIGKILL after limits.grace. Errors: not_found when argv[0] cannot be found,
// internal when the process cannot be started. Blocking; call from a worker thread.
util::Result<ChildOutcome> run_child(const ChildSpec& spec, const LogSink& sink, const ChildLimits& limits,
                                     const CancelSignal& cancel);

}  // namespace hookyard::pipeline
