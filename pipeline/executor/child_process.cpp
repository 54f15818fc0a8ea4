#include "pipeline/executor/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "pipeline/executor/spawn.hpp"

namespace hookyard::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* k_default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// A line longer than this is passed on in pieces so a progress bar without newlines cannot grow memory.
constexpr std::size_t k_max_line = 64 * 1024;
// Without a pidfd we notice the leader's exit by polling at this interval.
constexpr milliseconds k_exit_poll{100};
// After the leader is gone and its group killed, how long we keep reading for the pipe's end: a process
// outside the group (a double fork into a new group) could hold it open forever.
constexpr milliseconds k_drain_limit{3000};

class LineSplitter {
public:
    explicit LineSplitter(const LogSink& sink) : m_sink(sink) {}
    void feed(const char* data, std::size_t n) {
        m_buf.append(data, n);
        std::size_t start = 0;
        for (std::size_t nl; (nl = m_buf.find('\n', start)) != std::string::npos; start = nl + 1) {
            emit(std::string_view(m_buf).substr(start, nl - start));
        }
        m_buf.erase(0, start);
        if (m_buf.size() > k_max_line) {
            emit(m_buf);
            m_buf.clear();
        }
    }
    void finish() {
        if (!m_buf.empty()) emit(m_buf);
        m_buf.clear();
    }

private:
    void emit(std::string_view line) {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (m_sink) m_sink(line);
    }
    const LogSink& m_sink;
    std::string m_buf;
};

class Fd {
public:
    explicit Fd(int fd = -1) : m_fd(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return m_fd; }
    void reset() {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = -1;
    }

private:
    int m_fd;
};

// Starts the child and lets it exec once placement.on_spawn accepted it; returns 0 or an errno value
// (on_spawn's failure becomes EPERM after the child is killed and reaped).
int start_child(const std::string& program, const ChildSpec& spec, int out_fd, pid_t& pid, bool& recorded,
                std::string& record_error) {
    SpawnPlan plan{program,
                   spec.argv,
                   spec.env,
                   spec.cwd,
                   out_fd,
                   spec.placement.cgroup,
                   static_cast<bool>(spec.placement.on_spawn)};
    plan.argv[0] = program;
    SpawnedChild child;
    if (const int err = spawn_contained(plan, child); err != 0) return err;
    pid = child.pid();
    if (spec.placement.on_spawn) {
        if (auto st = spec.placement.on_spawn(pid); !st) {
            record_error = st.error().message;
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
            }
            return EPERM;
        }
        recorded = true;
    }
    const int err = child.release();
    if (err != 0 && recorded && spec.placement.on_reaped) spec.placement.on_reaped(pid);
    return err;
}

bool leader_exited(pid_t pid) {
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return errno == ECHILD;
    return info.si_pid == pid;
}

// SIGKILL to the child's group and, when placed in one, its whole cgroup (a process that left the group).
void kill_everything(pid_t pid, const ChildPlacement& placement) {
    ::kill(-pid, SIGKILL);
    if (placement.kill_all) placement.kill_all();
}

// Without a pidfd (or a cancel pipe) some event can only be noticed by waking up now and then.
int poll_timeout(std::optional<Clock::time_point> next_event, bool every_event_wakes_poll) {
    milliseconds wait = every_event_wakes_poll ? milliseconds(-1) : k_exit_poll;
    if (next_event) {
        const auto left = std::chrono::ceil<milliseconds>(*next_event - Clock::now());
        const auto bounded = std::max(left, milliseconds(0));
        wait = wait.count() < 0 ? bounded : std::min(wait, bounded);
    }
    return static_cast<int>(std::min<long long>(wait.count(), 1 << 30));
}

}  // namespace

CancelSignal::CancelSignal() {
    if (pipe2(m_pipe, O_CLOEXEC | O_NONBLOCK) != 0) m_pipe[0] = m_pipe[1] = -1;
}

CancelSignal::~CancelSignal() {
    for (int fd : m_pipe) {
        if (fd >= 0) ::close(fd);
    }
}

void CancelSignal::raise() {
    if (m_raised.exchange(true)) return;
    const char byte = 1;
    if (m_pipe[1] >= 0) [[maybe_unused]]
        auto n = ::write(m_pipe[1], &byte, 1);
}

std::string find_program(const std::string& program, const std::map<std::string, std::string>& env) {
    auto executable = [](const std::string& p) {
        struct stat st {};
        return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
    };
    if (program.find('/') != std::string::npos) return executable(program) ? program : "";
    const auto it = env.find("PATH");
    const std::string path = it != env.end() ? it->second : k_default_path;
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find(':', start), path.size());
        const std::string dir = path.substr(start, end - start);
        if (!dir.empty() && executable(dir + "/" + program)) return dir + "/" + program;
        start = end + 1;
    }
    return "";
}

namespace {

// Watches one started child until it and its group are gone: output, cancel, deadline, exit.
class Supervisor {
public:
    Supervisor(const ChildSpec& spec, const LogSink& sink, const ChildLimits& limits, const CancelSignal& cancel,
               pid_t pid, int read_fd)
        : m_spec(spec),
          m_limits(limits),
          m_cancel(cancel),
          m_pid(pid),
          m_read_end(read_fd),
          m_pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0))),
          m_lines(sink) {}

    // Runs until the leader exited and the output ended (or the drain limit passed); then reaps it.
    ChildOutcome run() {
        while (!(m_exited && (m_eof || Clock::now() >= *m_drain_until))) {
            signal_if_due(Clock::now());
            if (!wait_and_read()) break;
            if (!m_exited && leader_exited(m_pid)) {
                m_exited = true;
                // The leader is a zombie until we reap it, so its pid (the group id) cannot be reused yet:
                // killing the group now reaches only processes it left behind.
                kill_everything(m_pid, m_spec.placement);
                m_drain_until = Clock::now() + k_drain_limit;
            }
        }
        m_lines.finish();
        int status = 0;
        while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (WIFSIGNALED(status)) {
            m_outcome.signal = WTERMSIG(status);
        } else if (WIFEXITED(status)) {
            m_outcome.exit_code = WEXITSTATUS(status);
        }
        return m_outcome;
    }

private:
    // SIGTERM to the group on cancel or deadline, SIGKILL to everything once the grace period is over.
    void signal_if_due(Clock::time_point now) {
        if (!m_term_at && !m_exited && (m_cancel.raised() || now >= m_limits.deadline)) {
            // Cancel wins over a deadline that passed at the same moment: the user asked first.
            (m_cancel.raised() ? m_outcome.canceled : m_outcome.timed_out) = true;
            ::kill(-m_pid, SIGTERM);
            m_term_at = now;
        }
        if (m_term_at && !m_kill_sent && !m_exited && now >= *m_term_at + m_limits.grace) {
            kill_everything(m_pid, m_spec.placement);
            m_kill_sent = true;
        }
    }

    // Waits for output, the leader's exit, a cancel or the next deadline, and passes on what was read.
    // False when polling itself failed (the group is then killed).
    bool wait_and_read() {
        std::optional<Clock::time_point> next_event;
        if (m_exited) {
            next_event = m_drain_until;
        } else if (!m_term_at) {
            next_event = m_limits.deadline;
        } else if (!m_kill_sent) {
            next_event = *m_term_at + m_limits.grace;
        }
        pollfd pfds[3];
        nfds_t n = 0;
        if (!m_eof) pfds[n++] = {m_read_end.get(), POLLIN, 0};
        if (!m_exited && m_pidfd.get() >= 0) pfds[n++] = {m_pidfd.get(), POLLIN, 0};
        if (!m_term_at && !m_exited && m_cancel.fd() >= 0) pfds[n++] = {m_cancel.fd(), POLLIN, 0};
        const int timeout = poll_timeout(next_event, m_pidfd.get() >= 0 && m_cancel.fd() >= 0 && !m_exited);
        if (::poll(pfds, n, timeout) < 0 && errno != EINTR) {
            // Cannot supervise any more: make sure the group is gone before reaping the leader.
            kill_everything(m_pid, m_spec.placement);
            return false;
        }
        if (!m_eof && (pfds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            const ssize_t got = ::read(m_read_end.get(), m_buf, sizeof m_buf);
            if (got > 0) {
                m_lines.feed(m_buf, static_cast<std::size_t>(got));
            } else if (got == 0 || errno != EINTR) {
                m_eof = true;
            }
        }
        return true;
    }

    const ChildSpec& m_spec;
    const ChildLimits& m_limits;
    const CancelSignal& m_cancel;
    const pid_t m_pid;
    Fd m_read_end;
    Fd m_pidfd;
    LineSplitter m_lines;
    ChildOutcome m_outcome;
    bool m_eof = false;
    bool m_exited = false;
    bool m_kill_sent = false;
    std::optional<Clock::time_point> m_term_at;
    std::optional<Clock::time_point> m_drain_until;
    char m_buf[16384];
};

}  // namespace

util::Result<ChildOutcome> run_child(const ChildSpec& spec, const LogSink& sink, const ChildLimits& limits,
                                     const CancelSignal& cancel) {
    if (spec.argv.empty()) return util::make_error(util::ErrorKind::internal, "empty command line");
    const std::string program = find_program(spec.argv[0], spec.env);
    if (program.empty()) {
        return util::make_error(util::ErrorKind::not_found, "program '" + spec.argv[0] + "' not found");
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        return util::make_error(util::ErrorKind::internal, std::string("pipe: ") + std::strerror(errno));
    }
    Fd write_end(fds[1]);
    pid_t pid = -1;
    bool recorded = false;
    std::string record_error;
    const int err = start_child(program, spec, write_end.get(), pid, recorded, record_error);
    write_end.reset();
    if (err != 0) {
        ::close(fds[0]);
        return util::make_error(
            err == ENOENT ? util::ErrorKind::not_found : util::ErrorKind::internal,
            "cannot start " + program + ": " + (record_error.empty() ? std::string(std::strerror(err)) : record_error));
    }
    const ChildOutcome outcome = Supervisor(spec, sink, limits, cancel, pid, fds[0]).run();
    if (recorded && spec.placement.on_reaped) spec.placement.on_reaped(pid);
    return outcome;
}

}  // namespace hookyard::pipeline
