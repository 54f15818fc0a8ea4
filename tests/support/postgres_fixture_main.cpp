// `postgres_fixture setup|cleanup`: the two halves of ctest's `hookyard_postgres` fixture
// (tests/postgres_fixture.cmake), one PostgreSQL server for every test of a ctest run that uses one.

#include <cstring>
#include <iostream>

#include "tests/support/postgres_server.hpp"

int main(int argc, char** argv) {
    using hookyard::test::PostgresServer;
    const bool setup = argc == 2 && std::strcmp(argv[1], "setup") == 0;
    if (!setup && !(argc == 2 && std::strcmp(argv[1], "cleanup") == 0)) {
        std::cerr << "usage: postgres_fixture setup|cleanup (run by ctest, whose pid names the server)\n";
        return 2;
    }
    std::string error;
    const int code = setup ? PostgresServer::fixture_setup(&error) : PostgresServer::fixture_cleanup(&error);
    if (code != 0) std::cerr << "postgres_fixture " << argv[1] << ": " << error << "\n";
    return code;
}
