#pragma once
// Test helpers shared by every test folder: temporary directories, child processes (real servers),
// free loopback ports, polling instead of sleeping, and small file utilities.

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace hookyard::test {

// A fresh directory under $TMPDIR (or /tmp), removed recursively on destruction unless keep() was called
// or HOOKYARD_KEEP_TEST_DIRS is set.
class TempDir {
public:
    TempDir();
    ~TempDir();
    const std::string& path() const { return m_path; }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string operator/(const std::string& rel) const { return m_path + "/" + rel; }
    void keep() { m_keep = true; }

private:
    std::string m_path;
    bool m_keep = false;
};

// A child process in its own process group, stdout+stderr appended to `log_file`. Killed (SIGKILL to the
// group) on destruction if still running.
class Process {
public:
    Process(std::vector<std::string> argv, std::string log_file, std::map<std::string, std::string> env = {},
            std::string cwd = "");
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    int pid() const { return m_pid; }
    bool running();
    // Sends `sig` to the whole process group.
    void signal(int sig);
    // Waits up to `timeout` for exit; returns the exit code (128+signal for a signal), or -1 on timeout.
    int wait(std::chrono::milliseconds timeout);
    std::string log() const;
    const std::string& log_file() const { return m_log_file; }

private:
    int m_pid = -1;
    int m_status = -1;
    bool m_exited = false;
    std::string m_log_file;
};

// Runs a command to completion; returns its exit code, with stdout+stderr in `output` when given.
int run(const std::vector<std::string>& argv, std::string* output = nullptr, const std::string& cwd = "",
        const std::map<std::string, std::string>& env = {});
// Like run() but through /bin/sh -c.
int sh(const std::string& script, std::string* output = nullptr);

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();
// True once something accepts TCP connections on 127.0.0.1:port.
bool port_open(int port);

// Polls `cond` every 20 ms until it holds or `timeout` passes; returns whether it held.
bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content, bool executable = false);
// True when `program` is on PATH.
bool have_program(const std::string& program);

// Source tree and build tree of the project (compile-time paths).
std::string source_dir();
std::string binary_dir();

}  // namespace hookyard::test
