#include "pipeline/executor/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace hookyard::pipeline {
namespace {

std::vector<std::string> env_strings(const std::map<std::string, std::string>& env) {
    std::vector<std::string> out;
    out.reserve(env.size());
    for (const auto& [k, v] : env) out.push_back(k + "=" + v);
    return out;
}

std::vector<char*> c_array(std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (auto& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

// Everything the forked child needs, prepared before fork: after it only async-signal-safe calls run.
struct ChildSide {
    const char* program;
    char* const* argv;
    char* const* envp;
    const char* cwd;  // nullptr = inherit
    pid_t parent;
    int out_fd;
    int cgroup_fd;  // the target's cgroup.procs, or -1
    int go_fd;      // read end, or -1 when not held
    int error_fd;   // write end
};

[[noreturn]] void fail_child(int error_fd, int err) {
    [[maybe_unused]] auto n = ::write(error_fd, &err, sizeof err);
    ::_exit(127);
}

// Runs in the child between fork and exec.
[[noreturn]] void child_main(const ChildSide& c) {
    ::setpgid(0, 0);
    // Dies with the spawning thread; if the parent is already gone the signal will never come: stop.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != c.parent) ::_exit(127);
    if (c.cgroup_fd >= 0 && ::write(c.cgroup_fd, "0", 1) != 1) fail_child(c.error_fd, errno);
    if (c.go_fd >= 0) {
        char go = 0;
        // EOF: the parent died or gave up before it could record us.
        if (::read(c.go_fd, &go, 1) != 1) ::_exit(127);
    }
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(c.out_fd, 1) < 0 || ::dup2(c.out_fd, 2) < 0) {
        fail_child(c.error_fd, errno);
    }
    // Nothing but stdio reaches the program, whatever other threads of ours have open.
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    if (c.cwd != nullptr && ::chdir(c.cwd) != 0) fail_child(c.error_fd, errno);
    ::execve(c.program, c.argv, c.envp);
    fail_child(c.error_fd, errno);
}

}  // namespace

SpawnedChild::~SpawnedChild() {
    close_fd(m_go_fd);
    close_fd(m_error_fd);
}

SpawnedChild::SpawnedChild(SpawnedChild&& other) noexcept
    : m_pid(std::exchange(other.m_pid, -1)),
      m_go_fd(std::exchange(other.m_go_fd, -1)),
      m_error_fd(std::exchange(other.m_error_fd, -1)) {}

int SpawnedChild::release() {
    if (m_go_fd >= 0) {
        const char go = 1;
        [[maybe_unused]] auto n = ::write(m_go_fd, &go, 1);
        close_fd(m_go_fd);
    }
    int err = 0;
    ssize_t got;
    while ((got = ::read(m_error_fd, &err, sizeof err)) < 0 && errno == EINTR) {
    }
    close_fd(m_error_fd);
    if (got != static_cast<ssize_t>(sizeof err)) return 0;  // EOF: the exec happened
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
    return err != 0 ? err : ECHILD;
}

int spawn_contained(const SpawnPlan& plan, SpawnedChild& out) {
    std::vector<std::string> argv_s = plan.argv;
    std::vector<std::string> env_s = env_strings(plan.env);
    auto argv = c_array(argv_s);
    auto envp = c_array(env_s);
    int error_pipe[2];
    int go_pipe[2] = {-1, -1};
    if (::pipe2(error_pipe, O_CLOEXEC) != 0) return errno;
    if (plan.hold && ::pipe2(go_pipe, O_CLOEXEC) != 0) {
        const int err = errno;
        ::close(error_pipe[0]);
        ::close(error_pipe[1]);
        return err;
    }
    int cgroup_fd = -1;
    if (!plan.cgroup.empty()) cgroup_fd = ::open((plan.cgroup + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    const int open_errno = errno;
    const ChildSide side{plan.program.c_str(), argv.data(), envp.data(), plan.cwd.empty() ? nullptr : plan.cwd.c_str(),
                         ::getpid(),           plan.out_fd, cgroup_fd,   go_pipe[0],
                         error_pipe[1]};
    const pid_t pid = (plan.cgroup.empty() || cgroup_fd >= 0) ? ::fork() : -2;
    if (pid == 0) {
        ::close(error_pipe[0]);
        if (go_pipe[1] >= 0) ::close(go_pipe[1]);
        child_main(side);
    }
    const int fork_errno = pid == -2 ? open_errno : errno;
    for (int fd : {error_pipe[1], go_pipe[0], cgroup_fd}) {
        if (fd >= 0) ::close(fd);
    }
    if (pid < 0) {
        ::close(error_pipe[0]);
        if (go_pipe[1] >= 0) ::close(go_pipe[1]);
        return fork_errno;
    }
    out.m_pid = pid;
    out.m_go_fd = go_pipe[1];
    out.m_error_fd = error_pipe[0];
    return 0;
}

}  // namespace hookyard::pipeline
