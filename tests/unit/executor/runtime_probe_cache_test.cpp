// The runtime probe's cache: answered from it only while the boot, buildah's command line and the
// runtimes' files are the same; failures never kept.

#include "pipeline/executor/runtime_probe_cache.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;

// A PATH holding an executable `runc` (never run by these tests).
struct FakeRuntimePath {
    test::TempDir dir;
    FakeRuntimePath() { test::write_file(dir / "runc", "#!/bin/sh\nexit 1\n", true); }
    std::map<std::string, std::string> env() const { return {{"PATH", dir.path()}}; }
};

TEST(RuntimeProbeCache, KeyChangesWithTheRuntimeFileAndBuildahsCommandLine) {
    FakeRuntimePath path;
    const std::vector<std::string> argv{"/nonexistent/buildah", "--root", "/a"};
    const auto key = runtime_probe_key(argv, path.env());
    EXPECT_EQ(runtime_probe_key(argv, path.env()), key);
    EXPECT_NE(runtime_probe_key({"/nonexistent/buildah", "--root", "/b"}, path.env()), key);
    test::write_file(path.dir / "runc", "#!/bin/sh\nexit 22\n", true);  // an upgraded runc: other size and time
    EXPECT_NE(runtime_probe_key(argv, path.env()), key);
    EXPECT_NE(runtime_probe_key(argv, {{"PATH", "/nonexistent"}}), key);
}

TEST(RuntimeProbeCache, AMatchingEntryAnswersWithoutProbing) {
    FakeRuntimePath path;
    test::TempDir run;
    // buildah does not exist: a real probe would fail, so an answer can only come from the cache.
    const std::vector<std::string> argv{"/nonexistent/buildah"};
    fs::create_directories(run / "sandbox");
    test::write_file(run / "sandbox/runtime-probe", runtime_probe_key(argv, path.env()) + "\nrunc\ncgroupfs\n");
    bool cached = false;
    auto choice = probe_oci_runtime_cached(run.path(), argv, path.env(), &cached);
    ASSERT_TRUE(choice.ok()) << choice.error().message;
    EXPECT_TRUE(cached);
    EXPECT_EQ(choice->runtime, "runc");
    EXPECT_EQ(choice->cgroup_manager, "cgroupfs");
}

TEST(RuntimeProbeCache, AStaleEntryProbesAgainAndAFailureIsNotKept) {
    FakeRuntimePath path;
    test::TempDir run;
    const std::vector<std::string> argv{"/nonexistent/buildah"};
    fs::create_directories(run / "sandbox");
    test::write_file(run / "sandbox/runtime-probe", "another-boot\nrunc\ncgroupfs\n");
    bool cached = true;
    auto choice = probe_oci_runtime_cached(run.path(), argv, path.env(), &cached);
    EXPECT_FALSE(choice.ok());
    EXPECT_FALSE(cached);
    EXPECT_EQ(test::read_file(run / "sandbox/runtime-probe"), "another-boot\nrunc\ncgroupfs\n");
}

}  // namespace
}  // namespace hookyard::pipeline
