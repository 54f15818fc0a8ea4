#pragma once
// A real PostgreSQL server for tests (Debian `postgresql`, binaries under /usr/lib/postgresql/15/bin),
// started in a temporary directory: its data directory is a copy of one initdb'd template cached in the
// build tree (initdb takes seconds, a copy a fraction of one), it runs as `nobody` (tests run as root and
// PostgreSQL refuses root) on a free port with its Unix socket beside the data, fsync off. Stopped and
// removed on destruction — and by a watchdog child when the test process dies without destructing.

#include <memory>
#include <string>

#include "tests/support/support.hpp"

namespace hookyard::test {

class PostgresServer {
public:
    // The server shared by every test of this process, started on first use; nullptr when it cannot start,
    // with the cause (and the fix) in `error`.
    static PostgresServer* shared(std::string* error = nullptr);

    // Starts a server of its own; nullptr with the cause in `error` on failure.
    static std::unique_ptr<PostgresServer> start(std::string* error);
    ~PostgresServer();
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    // Creates an empty database `name` (letters, digits, _); false with psql's output in `error`.
    bool create_database(const std::string& name, std::string* error = nullptr);
    // The libpq URL of database `name` (superuser `hookyard`, no password, over the Unix socket).
    std::string url(const std::string& name) const;
    // The password of `hookyard`, which TCP connections need (the Unix socket trusts).
    static constexpr const char* k_password = "hookyard-test-pw";
    // The same database over TCP on 127.0.0.1:port(), with `password` in the URL unless it is empty.
    std::string tcp_url(const std::string& name, const std::string& password) const;
    // Runs one SQL statement on database `name` with psql; returns psql's exit code, its output in `out`.
    int psql(const std::string& name, const std::string& sql, std::string* out = nullptr) const;
    int port() const { return m_port; }
    // Stops the server the way an operator's restart does (pg_ctl stop -m fast: connections are cut, the
    // data stays); start_again() starts it on the same port and directory. false with pg_ctl's output.
    bool stop_for_restart(std::string* error);
    bool start_again(std::string* error);

private:
    PostgresServer() = default;
    bool launch(std::string* error);
    void stop();

    TempDir m_dir;  // data/ and the socket
    int m_port = 0;
    std::string m_options;   // postgres options: the port, the socket directory, no fsync
    int m_watchdog_fd = -1;  // closing it (or dying) makes the watchdog stop the server
    int m_watchdog_pid = -1;
};

}  // namespace hookyard::test
