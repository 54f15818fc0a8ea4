// WorkDir ownership: removed on destruction, kept on request, handed to a recycler, moved safely.

#include "pipeline/checkout/work_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;

TEST(WorkDir, RemovesItsDirectoryUnlessKept) {
    test::TempDir tmp;
    test::write_file(tmp / "a/file", "x");
    test::write_file(tmp / "b/file", "x");
    { WorkDir a(tmp / "a"); }
    {
        WorkDir b(tmp / "b");
        b.keep();
    }
    EXPECT_FALSE(fs::exists(tmp / "a"));
    EXPECT_TRUE(fs::exists(tmp / "b/file"));
}

TEST(WorkDir, MovedFromOwnsNothingAndAssignmentReleasesTheOldDirectory) {
    test::TempDir tmp;
    test::write_file(tmp / "a/file", "x");
    test::write_file(tmp / "b/file", "x");
    WorkDir outer;
    {
        WorkDir a(tmp / "a");
        outer = std::move(a);
    }
    EXPECT_TRUE(fs::exists(tmp / "a/file"));  // the moved-from object removed nothing
    outer = WorkDir(tmp / "b");
    EXPECT_FALSE(fs::exists(tmp / "a"));  // replaced: released like a destructor would
    EXPECT_TRUE(fs::exists(tmp / "b/file"));
}

TEST(WorkDir, HandsTheDirectoryToItsRecyclerInsteadOfRemovingIt) {
    test::TempDir tmp;
    test::write_file(tmp / "a/file", "x");
    std::string recycled;
    {
        WorkDir a(tmp / "a");
        a.set_recycler([&](const std::string& path) { recycled = path; });
    }
    EXPECT_EQ(recycled, tmp / "a");
    EXPECT_TRUE(fs::exists(tmp / "a/file"));
}

}  // namespace
}  // namespace hookyard::pipeline
