# One PostgreSQL server per ctest run (ctest fixture `hookyard_postgres`): postgres_fixture_setup starts it,
# postgres_fixture_cleanup stops it, and every discovered test whose name says it uses PostgreSQL requires
# it and finds it (tests/support/postgres_server.hpp). Included by tests/CMakeLists.txt after the tests.
add_executable(postgres_fixture ${CMAKE_CURRENT_SOURCE_DIR}/support/postgres_fixture_main.cpp)
target_link_libraries(postgres_fixture PRIVATE hookyard_testsupport hookyard_test_options)
# Building a test executable that uses PostgreSQL builds the fixture too: `ctest -R` after building only it works.
foreach(_exe unit_storage integration_e2e integration_cli)
  if(TARGET ${_exe})
    add_dependencies(${_exe} postgres_fixture)
  endif()
endforeach()
add_test(NAME postgres_fixture_setup COMMAND postgres_fixture setup)
add_test(NAME postgres_fixture_cleanup COMMAND postgres_fixture cleanup)
set_tests_properties(postgres_fixture_setup PROPERTIES FIXTURES_SETUP hookyard_postgres TIMEOUT 180 LABELS unit)
set_tests_properties(postgres_fixture_cleanup PROPERTIES FIXTURES_CLEANUP hookyard_postgres TIMEOUT 120 LABELS unit)

# gtest_discover_tests lists the tests at build time, in <target>_TESTS of files ctest includes; this file,
# included after them, marks the ones that use PostgreSQL.
set(_pg_marker ${CMAKE_CURRENT_BINARY_DIR}/postgres_fixture_tests.cmake)
file(WRITE ${_pg_marker} [=[
foreach(_t IN LISTS unit_storage_TESTS integration_e2e_TESTS integration_cli_TESTS)
  if(_t MATCHES "[Pp]ostgres|^Cluster")
    set_tests_properties("${_t}" PROPERTIES FIXTURES_REQUIRED hookyard_postgres
                                            ENVIRONMENT HOOKYARD_TEST_POSTGRES_FIXTURE=1)
  endif()
endforeach()
]=])
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${_pg_marker})
