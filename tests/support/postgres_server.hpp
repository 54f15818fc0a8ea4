#pragma once
// A real PostgreSQL server for tests (Debian `postgresql`, binaries under /usr/lib/postgresql/15/bin): its
// data directory is a copy of one initdb'd template cached in the build tree (initdb takes seconds, a copy
// a fraction of one), it runs as `nobody` (tests run as root and PostgreSQL refuses root) on a free port
// with its Unix socket beside the data, fsync off.
//
// Under ctest, one server serves the whole run: the `postgres_fixture_setup` test starts it in
// <build>/test-postgres/ctest-<ctest's pid>/ and `postgres_fixture_cleanup` stops it (ctest fixture
// `hookyard_postgres`, tests/postgres_fixture.cmake); the tests that use PostgreSQL find it through their
// parent's pid and each works in databases of its own. Run by hand (or when that server is missing), a test
// process starts a server of its own in a temporary directory, stopped and removed on destruction — and by a
// watchdog child when the process dies without destructing.

#include <memory>
#include <string>
#include <vector>

#include "tests/support/support.hpp"

namespace hookyard::test {

class PostgresServer {
public:
    // The server of this process's tests: the ctest run's when HOOKYARD_TEST_POSTGRES_FIXTURE is set and
    // its server runs, else one started on first use; nullptr when none can start, with the cause (and the
    // fix) in `error`.
    static PostgresServer* shared(std::string* error = nullptr);

    // Starts a server of its own (one that a test may stop and restart); nullptr with the cause in `error`.
    static std::unique_ptr<PostgresServer> start(std::string* error);
    ~PostgresServer();
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    // Creates an empty database named `stem` plus a suffix unique on this server (test processes share
    // it) and returns its name; "" with psql's output in `error`. `stem`: letters, digits, _.
    std::string new_database(const std::string& stem, std::string* error = nullptr);
    // The libpq URL of database `name` (superuser `hookyard`, no password, over the Unix socket).
    std::string url(const std::string& name) const;
    // The password of `hookyard`, which TCP connections need (the Unix socket trusts).
    static constexpr const char* k_password = "hookyard-test-pw";
    // The same database over TCP on 127.0.0.1:port(), with `password` in the URL unless it is empty.
    std::string tcp_url(const std::string& name, const std::string& password) const;
    // Runs one SQL statement on database `name` with psql; returns psql's exit code, its output in `out`.
    int psql(const std::string& name, const std::string& sql, std::string* out = nullptr) const;
    int port() const { return m_port; }
    // Whether this is the ctest run's server (attached to, not started by this process).
    bool is_the_runs() const { return !m_owned; }
    // Stops the server the way an operator's restart does (pg_ctl stop -m fast: connections are cut, the
    // data stays); start_again() starts it on the same port and directory. false with pg_ctl's output.
    // Only for a server of start(): the run's shared server is not this test's to stop.
    bool stop_for_restart(std::string* error);
    bool start_again(std::string* error);

    // The fixture's two halves (tests/support/postgres_fixture_main.cpp), run by ctest as tests: setup
    // stops what a killed earlier run left, starts the run's server and a watchdog that stops it when ctest
    // dies; cleanup stops it and removes its directory. 0 on success, else the cause in `error`.
    static int fixture_setup(std::string* error);
    static int fixture_cleanup(std::string* error);

private:
    PostgresServer() = default;
    bool launch(const std::string& root, std::string* error);
    // Attaches to the ctest run's server; nullptr when there is none.
    static std::unique_ptr<PostgresServer> attach();
    void stop();

    std::unique_ptr<TempDir> m_temp;  // the directory of a server of our own
    std::string m_root;               // data/ and the socket
    bool m_owned = true;              // false: the ctest run's server, which outlives us
    int m_port = 0;
    std::string m_options;               // postgres options: the port, the socket directory, no fsync
    std::vector<std::string> m_created;  // databases new_database() made, dropped at the end on a shared server
    int m_watchdog_fd = -1;              // closing it (or dying) makes the watchdog stop the server
    int m_watchdog_pid = -1;
};

}  // namespace hookyard::test
