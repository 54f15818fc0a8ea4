#include "tests/support/postgres_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace hookyard::test {
namespace {

const std::string k_bin = "/usr/lib/postgresql/15/bin/";
// PostgreSQL refuses to run as root; the tests do.
const std::string k_user = "nobody";

// `argv` run as k_user when we are root (as ourselves otherwise).
std::vector<std::string> as_pg_user(std::vector<std::string> argv) {
    if (geteuid() != 0) return argv;
    argv.insert(argv.begin(), {"runuser", "-u", k_user, "--"});
    return argv;
}

bool fail(std::string* error, const std::string& message) {
    if (error) *error = message;
    return false;
}

// Gives `path` (recursively) to k_user when we are root.
bool give_to_pg_user(const std::string& path) {
    return geteuid() != 0 || run({"chown", "-R", k_user + ":", path}) == 0;
}

// Where the servers of ctest runs live: one directory per run, named after ctest's pid.
std::string fixture_base() { return binary_dir() + "/test-postgres"; }
std::string fixture_root(pid_t ctest) { return fixture_base() + "/ctest-" + std::to_string(ctest); }

// The shell command that stops the server of `root` at once and removes `root`.
std::string stop_and_remove_command(const std::string& root) {
    return (geteuid() == 0 ? "runuser -u " + k_user + " -- " : std::string()) + k_bin + "pg_ctl -D '" + root +
           "/data' -m immediate -w stop >/dev/null 2>&1; rm -rf '" + root + "'";
}

// Starts `/bin/sh -c script` in its own session with stdio on /dev/null (so that ctest, which waits for a
// test's output to close, does not wait for it); its pid, -1 on failure. `stdin_fd` replaces /dev/null
// as its stdin when >= 0.
pid_t spawn_detached(const std::string& script, int stdin_fd = -1) {
    const pid_t pid = fork();
    if (pid != 0) return pid;
    setsid();
    const int null = ::open("/dev/null", O_RDWR);
    dup2(stdin_fd >= 0 ? stdin_fd : null, 0);
    dup2(null, 1);
    dup2(null, 2);
    execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
}

// The initdb'd data directory every server copies, made once per build tree (under a lock, so parallel
// test processes wait for the first instead of each running initdb).
bool ensure_template(std::string* error, std::string* data) {
    const std::string root = fixture_base();
    // Versioned: a template an older harness made (other initdb options) is not reused.
    const std::string ready = root + "/template-2/data";
    *data = ready;
    std::error_code ec;
    fs::create_directories(root, ec);
    const int lock = ::open((root + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock < 0 || flock(lock, LOCK_EX) != 0) return fail(error, "cannot lock " + root + "/lock");
    bool ok = true;
    if (!fs::exists(ready + "/PG_VERSION")) {
        TempDir scratch;
        std::string out;
        write_file(scratch / "pw", std::string(PostgresServer::k_password) + "\n");
        ok = give_to_pg_user(scratch.path()) &&
             run(as_pg_user({k_bin + "initdb", "-D", scratch / "data", "-U", "hookyard", "--auth-local=trust",
                             "--auth-host=scram-sha-256", "--pwfile=" + (scratch / "pw"), "-E", "UTF8", "--no-sync",
                             "--wal-segsize=1"}),
                 &out) == 0;
        if (ok) {
            fs::remove_all(fs::path(ready).parent_path(), ec);
            fs::create_directories(fs::path(ready).parent_path(), ec);
            ok = run({"cp", "-a", scratch / "data", ready}) == 0;
        }
        if (!ok) fail(error, "initdb failed: " + out);
    }
    ::close(lock);
    return ok;
}

// Stops and removes the servers of ctest runs that are gone (killed before their cleanup and their
// watchdog's stop, e.g. by a reboot).
void stop_leftover_servers() {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(fixture_base(), ec)) {
        const std::string name = entry.path().filename();
        if (name.rfind("ctest-", 0) != 0) continue;
        const pid_t pid = static_cast<pid_t>(std::atoi(name.c_str() + 6));
        if (pid > 0 && ::kill(pid, 0) == 0) continue;  // a run still going on
        sh(stop_and_remove_command(entry.path()));
    }
}

}  // namespace

PostgresServer* PostgresServer::shared(std::string* error) {
    static std::string start_error;
    static std::unique_ptr<PostgresServer> server = [] {
        auto attached = attach();
        return attached ? std::move(attached) : start(&start_error);
    }();
    if (!server && error) *error = start_error;
    return server.get();
}

std::unique_ptr<PostgresServer> PostgresServer::attach() {
    if (std::getenv("HOOKYARD_TEST_POSTGRES_FIXTURE") == nullptr) return nullptr;
    const std::string root = fixture_root(getppid());
    std::ifstream info(root + "/port");
    int port = 0;
    if (!(info >> port) || !fs::exists(root + "/data/postmaster.pid")) return nullptr;
    std::unique_ptr<PostgresServer> s(new PostgresServer());
    s->m_root = root;
    s->m_port = port;
    s->m_owned = false;
    return s;
}

std::unique_ptr<PostgresServer> PostgresServer::start(std::string* error) {
    if (!fs::exists(k_bin + "pg_ctl")) {
        fail(error, k_bin + "pg_ctl is missing: install the Debian packages postgresql and libpq-dev (scripts/setup)");
        return nullptr;
    }
    std::unique_ptr<PostgresServer> s(new PostgresServer());
    s->m_temp = std::make_unique<TempDir>();
    if (!s->launch(s->m_temp->path(), error)) return nullptr;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        fail(error, "pipe failed");
        return nullptr;
    }
    // The watchdog outlives a killed test process: its stdin is the pipe, whose end closes when we go.
    s->m_watchdog_pid = spawn_detached("cat >/dev/null; " + stop_and_remove_command(s->m_root), fds[0]);
    ::close(fds[0]);
    s->m_watchdog_fd = fds[1];
    return s;
}

bool PostgresServer::launch(const std::string& root, std::string* error) {
    m_root = root;
    std::string tmpl;
    if (!ensure_template(error, &tmpl)) return false;
    if (run({"cp", "-a", tmpl, m_root + "/data"}) != 0 || !give_to_pg_user(m_root)) {
        return fail(error, "cannot copy the PostgreSQL template into " + m_root);
    }
    m_port = free_port();
    m_options = "-p " + std::to_string(m_port) + " -k " + m_root +
                " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                " -c full_page_writes=off -c max_connections=300";
    return start_again(error);
}

bool PostgresServer::start_again(std::string* error) {
    // Not run(): the server would inherit its output pipe and run() would wait for it to close.
    Process pg_ctl(as_pg_user({k_bin + "pg_ctl", "-D", m_root + "/data", "-l", m_root + "/server.log", "-w", "-t", "60",
                               "-o", m_options, "start"}),
                   m_root + "/pg_ctl.log");
    if (pg_ctl.wait(std::chrono::seconds(90)) != 0) {
        return fail(error, "pg_ctl start failed: " + pg_ctl.log() + read_file(m_root + "/server.log"));
    }
    return true;
}

bool PostgresServer::stop_for_restart(std::string* error) {
    if (!m_owned) return fail(error, "the ctest run's PostgreSQL server is shared: restart one of start()'s");
    std::string out;
    if (run(as_pg_user({k_bin + "pg_ctl", "-D", m_root + "/data", "-m", "fast", "-w", "-t", "60", "stop"}), &out) !=
        0) {
        return fail(error, "pg_ctl stop failed: " + out);
    }
    return true;
}

void PostgresServer::stop() {
    if (m_port == 0) return;
    run(as_pg_user({k_bin + "pg_ctl", "-D", m_root + "/data", "-m", "immediate", "-w", "stop"}));
    m_port = 0;
}

PostgresServer::~PostgresServer() {
    if (!m_owned) {
        // The shared server outlives this process: leave it no databases (each holds a copy of template1).
        std::vector<std::string> argv{k_bin + "psql", "-X", "-q", "-d", url("postgres")};
        for (const auto& db : m_created)
            argv.insert(argv.end(), {"-c", "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)"});
        if (!m_created.empty()) run(argv);
        return;
    }
    stop();
    if (m_watchdog_fd >= 0) ::close(m_watchdog_fd);
    if (m_watchdog_pid > 0) waitpid(m_watchdog_pid, nullptr, 0);
}

std::string PostgresServer::new_database(const std::string& stem, std::string* error) {
    static std::atomic<int> counter{0};
    const std::string name = stem + "_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    std::string out;
    if (psql("postgres", "CREATE DATABASE " + name + " STRATEGY = FILE_COPY", &out) != 0) {
        fail(error, "CREATE DATABASE " + name + " failed: " + out);
        return "";
    }
    m_created.push_back(name);
    return name;
}

std::string PostgresServer::url(const std::string& name) const {
    return "postgresql://hookyard@localhost:" + std::to_string(m_port) + "/" + name + "?host=" + m_root;
}

std::string PostgresServer::tcp_url(const std::string& name, const std::string& password) const {
    return "postgresql://hookyard" + (password.empty() ? "" : ":" + password) + "@127.0.0.1:" + std::to_string(m_port) +
           "/" + name;
}

int PostgresServer::psql(const std::string& name, const std::string& sql, std::string* out) const {
    return run({k_bin + "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url(name), "-c", sql}, out);
}

int PostgresServer::fixture_setup(std::string* error) {
    std::error_code ec;
    fs::create_directories(fixture_base(), ec);
    stop_leftover_servers();
    const pid_t ctest = getppid();
    const std::string root = fixture_root(ctest);
    fs::create_directories(root, ec);
    PostgresServer server;
    server.m_owned = false;  // it outlives this process
    if (!server.launch(root, error)) return 1;
    // Stops the server once ctest is gone, should the run be killed before its cleanup test.
    const pid_t watchdog = spawn_detached("while kill -0 " + std::to_string(ctest) +
                                          " 2>/dev/null; do sleep 1; done; " + stop_and_remove_command(root));
    write_file(root + "/watchdog.pid", std::to_string(watchdog) + "\n");
    // The port last: the tests take its presence for a running server.
    write_file(root + "/port.tmp", std::to_string(server.m_port) + "\n");
    fs::rename(root + "/port.tmp", root + "/port", ec);
    return ec ? (fail(error, "cannot write " + root + "/port: " + ec.message()), 1) : 0;
}

int PostgresServer::fixture_cleanup(std::string* error) {
    const std::string root = fixture_root(getppid());
    std::ifstream pid_file(root + "/watchdog.pid");
    pid_t watchdog = 0;
    if (pid_file >> watchdog && watchdog > 0) ::kill(watchdog, SIGKILL);
    if (sh(stop_and_remove_command(root)) != 0 || fs::exists(root)) {
        return fail(error, "cannot stop the PostgreSQL server of " + root), 1;
    }
    return 0;
}

}  // namespace hookyard::test
