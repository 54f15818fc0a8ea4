# Shared compile settings: every target of ours links hookyard_options.
add_library(hookyard_options INTERFACE)
target_compile_options(hookyard_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual)
if(HOOKYARD_WERROR)
  target_compile_options(hookyard_options INTERFACE -Werror)
endif()
# Boost.Asio/Beast: separate compilation (their non-template code is compiled once, in http/boost_src.cpp,
# not in every file that includes them: a third of the Beast client's compile time), without deprecated APIs.
# Every target of ours gets these definitions, so that all agree on which code is declared and which defined.
target_compile_definitions(hookyard_options INTERFACE BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_SEPARATE_COMPILATION
                                                      BOOST_BEAST_SEPARATE_COMPILATION)

set(_san "")
if(HOOKYARD_ASAN)
  list(APPEND _san address)
endif()
if(HOOKYARD_UBSAN)
  list(APPEND _san undefined)
endif()
if(HOOKYARD_TSAN)
  if(HOOKYARD_ASAN)
    message(FATAL_ERROR "HOOKYARD_TSAN cannot be combined with HOOKYARD_ASAN")
  endif()
  list(APPEND _san thread)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC warns for each std::atomic_thread_fence TSan does not model: all are Asio's (std_fenced_block,
    # atomic_count), hundreds per build. Handlers still pass between threads through the scheduler's and
    # strands' mutexes, which TSan does see.
    target_compile_options(hookyard_options INTERFACE -Wno-tsan)
  endif()
endif()
if(HOOKYARD_FUZZ)
  # libFuzzer targets (fuzz/, scripts/fuzz): clang only. Every library gets coverage instrumentation
  # (fuzzer-no-link; the fuzz executables link the fuzzer itself) plus ASan and UBSan, and a UBSan finding
  # aborts so that libFuzzer reports it as a crash.
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "HOOKYARD_FUZZ needs clang (Debian packages 'clang' and 'libclang-rt-14-dev'): "
                        "configure with -DCMAKE_CXX_COMPILER=clang++, or run scripts/fuzz")
  endif()
  if(HOOKYARD_TSAN)
    message(FATAL_ERROR "HOOKYARD_FUZZ cannot be combined with HOOKYARD_TSAN")
  endif()
  target_compile_options(hookyard_options INTERFACE -fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined)
  list(APPEND _san address undefined)
  list(REMOVE_DUPLICATES _san)
endif()
if(_san)
  list(JOIN _san "," _san_list)
  target_compile_options(hookyard_options INTERFACE -fsanitize=${_san_list} -fno-omit-frame-pointer)
  target_link_options(hookyard_options INTERFACE -fsanitize=${_san_list})
  # GCC 12 with sanitizers: -Wmaybe-uninitialized fires inside libstdc++ (std::regex's std::function state
  # under ASan), and -Wtsan on Asio's atomic_thread_fence (TSan does not model standalone fences; Asio's
  # ordering does not depend on them). Neither is about our code; keep -Werror usable.
  target_compile_options(hookyard_options INTERFACE -Wno-maybe-uninitialized)
  if(HOOKYARD_TSAN)
    target_compile_options(hookyard_options INTERFACE -Wno-tsan)
  endif()
endif()

# hookyard_library(NAME <name> [COLD] [DEPS ...]): one static library per folder, sources globbed from that
# folder. COLD: the folder's time goes to waiting (on buildah, libgit2, the database or a person), not to its
# own code, and no request of the intake or the registry upload runs through it: RelWithDebInfo compiles it
# at -O1 (cmake/HookyardBuildSpeed.cmake says why and what it measured).
function(hookyard_library name)
  cmake_parse_arguments(ARG "COLD" "" "DEPS" ${ARGN})
  file(GLOB _srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  add_library(hookyard_${name} STATIC ${_srcs})
  target_include_directories(hookyard_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(hookyard_${name} PUBLIC hookyard_options ${ARG_DEPS})
  if(ARG_COLD)
    target_link_libraries(hookyard_${name} PRIVATE hookyard_cold_options)
  endif()
endfunction()
