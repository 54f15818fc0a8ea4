# Every dependency comes from a Debian package; a missing one fails here with the package to install.
# `scripts/setup` installs them all.
find_package(PkgConfig QUIET)

macro(hookyard_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR "hookyard needs ${what}: install the Debian package '${package}' "
                        "(or run scripts/setup, which installs everything)")
  endif()
endmacro()

find_package(Threads REQUIRED)

find_package(Boost 1.81 QUIET CONFIG COMPONENTS url)
hookyard_require(Boost_FOUND "Boost 1.81 with Boost.URL" "libboost1.81-dev libboost-url1.81-dev")

find_package(OpenSSL QUIET)
hookyard_require(OPENSSL_FOUND "OpenSSL" "libssl-dev")

find_package(nlohmann_json 3 QUIET)
hookyard_require(nlohmann_json_FOUND "nlohmann/json" "nlohmann-json3-dev")

find_package(yaml-cpp QUIET)
hookyard_require(yaml-cpp_FOUND "yaml-cpp" "libyaml-cpp-dev")

find_package(SQLite3 QUIET)
hookyard_require(SQLite3_FOUND "SQLite 3" "libsqlite3-dev")

if(PkgConfig_FOUND)
  pkg_check_modules(LIBGIT2 QUIET IMPORTED_TARGET libgit2)
endif()
hookyard_require(LIBGIT2_FOUND "libgit2" "libgit2-dev")

# Rule regexes: RE2 matches in linear time, so a pushed branch name cannot make a pattern backtrack.
if(PkgConfig_FOUND)
  pkg_check_modules(RE2 QUIET IMPORTED_TARGET re2)
endif()
hookyard_require(RE2_FOUND "RE2" "libre2-dev")

if(HOOKYARD_TESTS)
  find_package(GTest QUIET)
  hookyard_require(GTest_FOUND "GoogleTest" "libgtest-dev libgmock-dev")
endif()

# yaml-cpp's Debian config exports either `yaml-cpp` or `yaml-cpp::yaml-cpp` depending on version.
if(TARGET yaml-cpp::yaml-cpp)
  set(HOOKYARD_YAML_TARGET yaml-cpp::yaml-cpp)
else()
  set(HOOKYARD_YAML_TARGET yaml-cpp)
endif()
