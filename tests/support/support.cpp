#include "tests/support/support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/build_paths.hpp"

namespace fs = std::filesystem;

namespace hookyard::test {
namespace {

pid_t spawn(const std::vector<std::string>& argv, const std::string& log_file,
            const std::map<std::string, std::string>& env, const std::string& cwd, int out_fd) {
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        setpgid(0, 0);
        int fd = out_fd;
        if (fd < 0) fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        const int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(127);
        for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    setpgid(pid, pid);
    return pid;
}

}  // namespace

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/hookyard-test-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    m_path = tmpl;
}

TempDir::~TempDir() {
    if (m_keep || std::getenv("HOOKYARD_KEEP_TEST_DIRS")) return;
    std::error_code ec;
    fs::remove_all(m_path, ec);
}

Process::Process(std::vector<std::string> argv, std::string log_file, std::map<std::string, std::string> env,
                 std::string cwd)
    : m_log_file(std::move(log_file)) {
    m_pid = spawn(argv, m_log_file, env, cwd, -1);
}

Process::~Process() {
    if (m_pid > 0 && running()) {
        ::kill(-m_pid, SIGKILL);
        wait(std::chrono::seconds(10));
    }
}

bool Process::running() {
    if (m_exited) return false;
    int status = 0;
    const pid_t r = waitpid(m_pid, &status, WNOHANG);
    if (r == m_pid) {
        m_exited = true;
        m_status = status;
        return false;
    }
    return true;
}

void Process::signal(int sig) {
    if (m_pid > 0) ::kill(-m_pid, sig);
}

int Process::wait(std::chrono::milliseconds timeout) {
    if (!wait_until([&] { return !running(); }, timeout)) return -1;
    if (WIFEXITED(m_status)) return WEXITSTATUS(m_status);
    if (WIFSIGNALED(m_status)) return 128 + WTERMSIG(m_status);
    return -1;
}

std::string Process::log() const { return read_file(m_log_file); }

int run(const std::vector<std::string>& argv, std::string* output, const std::string& cwd,
        const std::map<std::string, std::string>& env) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    const pid_t pid = spawn(argv, "", env, cwd, fds[1]);
    close(fds[1]);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (output) *output = out;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int sh(const std::string& script, std::string* output) { return run({"/bin/sh", "-c", script}, output); }

int free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    const int port = ntohs(addr.sin_port);
    close(fd);
    return port;
}

bool port_open(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    return ok;
}

bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (cond()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const std::string& path, const std::string& content, bool executable) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    if (executable) chmod(path.c_str(), 0755);
}

bool have_program(const std::string& program) { return run({"/bin/sh", "-c", "command -v " + program}, nullptr) == 0; }

std::string source_dir() { return HOOKYARD_SOURCE_DIR; }
std::string binary_dir() { return HOOKYARD_BINARY_DIR; }

}  // namespace hookyard::test
