#include "tests/support/postgres_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

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

// The initdb'd data directory every server copies, made once per build tree (under a lock, so parallel
// test processes wait for the first instead of each running initdb).
bool ensure_template(std::string* error, std::string* data) {
    const std::string root = binary_dir() + "/test-postgres";
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

}  // namespace

PostgresServer* PostgresServer::shared(std::string* error) {
    static std::string start_error;
    static std::unique_ptr<PostgresServer> server = start(&start_error);
    if (!server && error) *error = start_error;
    return server.get();
}

std::unique_ptr<PostgresServer> PostgresServer::start(std::string* error) {
    if (!fs::exists(k_bin + "pg_ctl")) {
        fail(error, k_bin + "pg_ctl is missing: install the Debian packages postgresql and libpq-dev (scripts/setup)");
        return nullptr;
    }
    std::unique_ptr<PostgresServer> s(new PostgresServer());
    if (!s->launch(error)) return nullptr;
    return s;
}

bool PostgresServer::launch(std::string* error) {
    std::string tmpl;
    if (!ensure_template(error, &tmpl)) return false;
    if (run({"cp", "-a", tmpl, m_dir / "data"}) != 0 || !give_to_pg_user(m_dir.path())) {
        return fail(error, "cannot copy the PostgreSQL template into " + m_dir.path());
    }
    m_port = free_port();
    m_options = "-p " + std::to_string(m_port) + " -k " + m_dir.path() +
                " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                " -c full_page_writes=off -c max_connections=200";
    if (!start_again(error)) return false;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return fail(error, "pipe failed");
    const std::string stop = "cat >/dev/null; " + (geteuid() == 0 ? "runuser -u " + k_user + " -- " : std::string()) +
                             k_bin + "pg_ctl -D '" + (m_dir / "data") +
                             "' -m immediate -w stop >/dev/null 2>&1; rm -rf '" + m_dir.path() + "'";
    m_watchdog_pid = fork();
    if (m_watchdog_pid == 0) {
        // The watchdog outlives a killed test process: its own session, stdin the pipe's read end.
        setsid();
        dup2(fds[0], 0);
        execl("/bin/sh", "sh", "-c", stop.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    ::close(fds[0]);
    m_watchdog_fd = fds[1];
    return true;
}

bool PostgresServer::start_again(std::string* error) {
    // Not run(): the server would inherit its output pipe and run() would wait for it to close.
    Process pg_ctl(as_pg_user({k_bin + "pg_ctl", "-D", m_dir / "data", "-l", m_dir / "server.log", "-w", "-t", "60",
                               "-o", m_options, "start"}),
                   m_dir / "pg_ctl.log");
    if (pg_ctl.wait(std::chrono::seconds(90)) != 0) {
        return fail(error, "pg_ctl start failed: " + pg_ctl.log() + read_file(m_dir / "server.log"));
    }
    return true;
}

bool PostgresServer::stop_for_restart(std::string* error) {
    std::string out;
    if (run(as_pg_user({k_bin + "pg_ctl", "-D", m_dir / "data", "-m", "fast", "-w", "-t", "60", "stop"}), &out) != 0) {
        return fail(error, "pg_ctl stop failed: " + out);
    }
    return true;
}

void PostgresServer::stop() {
    if (m_port == 0) return;
    run(as_pg_user({k_bin + "pg_ctl", "-D", m_dir / "data", "-m", "immediate", "-w", "stop"}));
    m_port = 0;
}

PostgresServer::~PostgresServer() {
    stop();
    if (m_watchdog_fd >= 0) ::close(m_watchdog_fd);
    if (m_watchdog_pid > 0) waitpid(m_watchdog_pid, nullptr, 0);
}

bool PostgresServer::create_database(const std::string& name, std::string* error) {
    std::string out;
    if (psql("postgres", "CREATE DATABASE " + name + " STRATEGY = FILE_COPY", &out) != 0) {
        return fail(error, "CREATE DATABASE " + name + " failed: " + out);
    }
    return true;
}

std::string PostgresServer::url(const std::string& name) const {
    return "postgresql://hookyard@localhost:" + std::to_string(m_port) + "/" + name + "?host=" + m_dir.path();
}

std::string PostgresServer::tcp_url(const std::string& name, const std::string& password) const {
    return "postgresql://hookyard" + (password.empty() ? "" : ":" + password) + "@127.0.0.1:" + std::to_string(m_port) +
           "/" + name;
}

int PostgresServer::psql(const std::string& name, const std::string& sql, std::string* out) const {
    return run({k_bin + "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url(name), "-c", sql}, out);
}

}  // namespace hookyard::test
