// flock-based turns between processes: exclusive excludes everything, shared admits shared, the kernel
// releases a lock when its holder goes (closing, moving from, or a process that dies).

#include "util/file_lock.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/support.hpp"

namespace hookyard::util {
namespace {

using Mode = FileLock::Mode;

// flock locks belong to open file descriptions, so a second acquire in this process contends like another
// process would; a child process checks the cross-process case.
TEST(FileLock, ExclusiveExcludesOthersUntilReleased) {
    test::TempDir dir;
    const std::string path = dir / "x.lock";
    auto held = FileLock::acquire(path, Mode::exclusive);
    ASSERT_TRUE(held.ok()) << held.error().message;
    auto second = FileLock::try_acquire(path, Mode::shared);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().kind, ErrorKind::conflict);
    EXPECT_NE(second.error().message.find(path), std::string::npos) << second.error().message;

    FileLock moved = std::move(*held);
    EXPECT_TRUE(moved.held());
    EXPECT_FALSE(FileLock::try_acquire(path, Mode::exclusive).ok()) << "moving keeps the lock";
    moved = FileLock();
    EXPECT_TRUE(FileLock::try_acquire(path, Mode::exclusive).ok()) << "released by the move-assign";
}

TEST(FileLock, SharedAdmitsSharedAndExcludesExclusive) {
    test::TempDir dir;
    const std::string path = dir / "s.lock";
    auto one = FileLock::acquire(path, Mode::shared);
    auto two = FileLock::try_acquire(path, Mode::shared);
    ASSERT_TRUE(one.ok() && two.ok());
    const pid_t child = ::fork();
    if (child == 0) _exit(FileLock::try_acquire(path, Mode::exclusive).ok() ? 1 : 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "another process cannot take it exclusively";
}

TEST(FileLock, AnUnopenableFileIsAnInternalErrorNamingIt) {
    auto lock = FileLock::acquire("/nonexistent-dir/x.lock", Mode::exclusive);
    ASSERT_FALSE(lock.ok());
    EXPECT_EQ(lock.error().kind, ErrorKind::internal);
    EXPECT_NE(lock.error().message.find("/nonexistent-dir/x.lock"), std::string::npos);
}

}  // namespace
}  // namespace hookyard::util
