# Build speed (measured figures: README, development section). In a RelWithDebInfo build most of the time
# goes to code generation of the same inline/template code (nlohmann/json, Boost.URL/Beast, gtest) in
# every .cpp, and to linking ~20 executables. So:
# - unity builds (-DHOOKYARD_UNITY=OFF to check a file alone): each target compiles its .cpp files in batches
#   of HOOKYARD_UNITY_BATCH, so shared headers are parsed and their templates instantiated once per batch.
#   Test executables take up to 16 files a batch (hookyard_unity_batches): their code is at -Og, so about
#   60 % of a batch's time is parsing; 8 -> 16 measured 213 -> 150-184 CPU-s of test compile time (the 2-core
#   machine's speed drifts by ~15 % within an hour).
#   A file whose internal names clash with a neighbour's, or that is heavy enough to make every edit of its
#   batch slow (the Beast server and client), stays out: hookyard_no_unity() in its folder's CMakeLists.txt.
# - line tables only (-g1) in RelWithDebInfo, and tests at -Og without debug info (below).
# - a precompiled header for the tests (gtest/gmock and the heavy third-party headers), shared by
#   tests/support and every test executable (REUSE_FROM: they all compile with the same flags; the source
#   and build paths come from a generated header, not -D flags). For the libraries a PCH did not pay:
#   loading a 190 MB .gch costs more than parsing saves once code generation dominates.
# - lld as the linker when it is installed (Debian package lld), else gold, else the default.
# -DHOOKYARD_PCH=OFF checks that every file includes what it uses.
option(HOOKYARD_UNITY "Unity builds (batches of .cpp files per target)" ON)
set(HOOKYARD_UNITY_BATCH 8 CACHE STRING "Number of .cpp files per unity batch")
# OFF for now: with the PCH, GCC 12 reports a false -Warray-bounds inside std::string (operator+ on a string
# with embedded NULs, tests/unit/checkout/git_remote_test.cpp:58), an error under HOOKYARD_WERROR.
option(HOOKYARD_PCH "Precompiled header for the tests" OFF)
option(HOOKYARD_FAST_LINKER "Link with lld (or gold) when available" ON)
option(HOOKYARD_FULL_DEBUG_INFO "RelWithDebInfo with full debug info (-g) instead of line tables (-g1)" OFF)

# Line tables (file:line in backtraces, perf and gdb `bt`) cost a sixth less compile time than full debug
# info; a debugging session that wants locals configures -DHOOKYARD_FULL_DEBUG_INFO=ON (or Debug).
if(NOT HOOKYARD_FULL_DEBUG_INFO)
  string(REGEX REPLACE "(^| )-g( |$)" "\\1-g1\\2" CMAKE_CXX_FLAGS_RELWITHDEBINFO "${CMAKE_CXX_FLAGS_RELWITHDEBINFO}")
endif()

# RelWithDebInfo at -O1 instead of -O2 (a developer's choice, OFF by default): the libraries compile a quarter
# faster (clean build 290 -> 258 s wall, 533 -> 488 s CPU on the 2-core machine), but bench/intake served
# about 8 % fewer requests per second in alternating runs (medians 2,717 vs 2,969 req/s; bench/push unchanged),
# so the binary people run keeps its hot folders at -O2 (only the COLD ones below are at -O1). Release
# keeps its -O3.
option(HOOKYARD_O1 "RelWithDebInfo at -O1 instead of -O2 (faster builds, slower binary)" OFF)
if(HOOKYARD_O1)
  string(REGEX REPLACE "(^| )-O2( |$)" "\\1-O1\\2" CMAKE_CXX_FLAGS_RELWITHDEBINFO "${CMAKE_CXX_FLAGS_RELWITHDEBINFO}")
endif()

# The folders whose time goes to waiting, not to their own code (hookyard_library(... COLD ...): api, pipeline,
# pipeline/checkout, pipeline/executor) compile at -O1 whatever the option: 101 -> 76 CPU-s for the four,
# measured on one tree. Not config (the intake plans builds through it), http, storage, webhook/*,
# pipeline/registry (bench/push), util or cli (the route wiring).
add_library(hookyard_cold_options INTERFACE)
target_compile_options(hookyard_cold_options INTERFACE $<$<CONFIG:RelWithDebInfo>:-O1>)

if(HOOKYARD_UNITY)
  set(CMAKE_UNITY_BUILD ON)
  set(CMAKE_UNITY_BUILD_BATCH_SIZE ${HOOKYARD_UNITY_BATCH})
  # In a unity batch every file but the first is "a header": GoogleTest fixtures in anonymous namespaces
  # would trip -Wsubobject-linkage.
  target_compile_options(hookyard_options INTERFACE -Wno-subobject-linkage)
endif()

# Test code is compiled at -Og without debug info whatever the build type's level: tests measure behaviour,
# not speed (the benchmarks in bench/ use the real binary, and the libraries a test links keep their -O2
# -g1), and a test's own code costs about half the compile time of -O2 this way (-Og: a fifth less than
# -O1, measured on three unity batches; a test-side backtrace with lines wants HOOKYARD_FULL_DEBUG_INFO).
# Linked PRIVATE by every test target (tests/CMakeLists.txt).
add_library(hookyard_test_options INTERFACE)
target_compile_options(hookyard_test_options INTERFACE $<$<CONFIG:RelWithDebInfo,Release>:-Og>)
if(NOT HOOKYARD_FULL_DEBUG_INFO)
  target_compile_options(hookyard_test_options INTERFACE $<$<CONFIG:RelWithDebInfo,Release>:-g0>)
endif()

if(HOOKYARD_FAST_LINKER)
  include(CheckLinkerFlag)
  check_linker_flag(CXX -fuse-ld=lld HOOKYARD_HAVE_LLD)
  if(HOOKYARD_HAVE_LLD)
    target_link_options(hookyard_options INTERFACE -fuse-ld=lld)
  else()
    check_linker_flag(CXX -fuse-ld=gold HOOKYARD_HAVE_GOLD)
    if(HOOKYARD_HAVE_GOLD)
      target_link_options(hookyard_options INTERFACE -fuse-ld=gold)
    endif()
  endif()
endif()

set(HOOKYARD_TEST_PCH_HEADERS
    <algorithm> <atomic> <chrono> <condition_variable> <cstdint> <cstdio> <cstdlib> <cstring> <filesystem>
    <fstream> <functional> <map> <memory> <mutex> <optional> <set> <sstream> <stdexcept> <string>
    <string_view> <thread> <utility> <vector> <nlohmann/json.hpp> <gtest/gtest.h> <gmock/gmock.h>)

# Every target of ours compiles with Boost.URL's definitions (not only those linking Boost::url), so that all
# test targets have exactly the flags of the PCH (with -Werror, -Winvalid-pch turns a mismatch into an error).
target_compile_definitions(hookyard_options INTERFACE $<TARGET_PROPERTY:Boost::url,INTERFACE_COMPILE_DEFINITIONS>)

# hookyard_use_test_pch(<target>): compile <target> (a test target) with the shared test PCH.
function(hookyard_use_test_pch target)
  if(NOT HOOKYARD_PCH)
    return()
  endif()
  if(NOT TARGET hookyard_test_pch)
    file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/generated/hookyard_test_pch.cpp
         CONTENT "// Compiles the tests' precompiled header; nothing else.\n")
    add_library(hookyard_test_pch OBJECT ${PROJECT_BINARY_DIR}/generated/hookyard_test_pch.cpp)
    target_link_libraries(hookyard_test_pch PRIVATE hookyard_options GTest::gtest GTest::gmock)
    target_precompile_headers(hookyard_test_pch PRIVATE ${HOOKYARD_TEST_PCH_HEADERS})
  endif()
  target_precompile_headers(${target} REUSE_FROM hookyard_test_pch)
endfunction()

# hookyard_no_unity(<file>…): keep these sources out of unity batches (they clash with a neighbour).
function(hookyard_no_unity)
  set_source_files_properties(${ARGN} PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
endfunction()

# hookyard_unity_batches(<target> <max>): batches of at most <max> files, as even as possible (17 files at 16
# make 9 + 8, not 16 + 1).
function(hookyard_unity_batches target max)
  get_target_property(_srcs ${target} SOURCES)
  list(LENGTH _srcs _n)
  math(EXPR _batches "(${_n} + ${max} - 1) / ${max}")
  if(_batches GREATER 0)
    math(EXPR _size "(${_n} + ${_batches} - 1) / ${_batches}")
    set_target_properties(${target} PROPERTIES UNITY_BUILD_BATCH_SIZE ${_size})
  endif()
endfunction()
