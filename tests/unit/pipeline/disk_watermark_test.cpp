// Disk watermarks against the real file system of a temporary dir: a threshold above its free space
// reports it (once to on_low), one below does not.

#include "pipeline/disk_watermark.hpp"

#include <gtest/gtest.h>

#include "pipeline/pull_policy.hpp"
#include "tests/support/support.hpp"

using hookyard::pipeline::DiskWatermark;

TEST(DiskWatermark, ReportsEveryFileSystemBelowTheThresholdAndCallsOnLowOncePerDrop) {
    hookyard::test::TempDir dir;
    const auto free = DiskWatermark::free_bytes(dir.path());
    ASSERT_TRUE(free.has_value());
    int lows = 0;
    DiskWatermark tight({{"data dir", dir.path()}, {"buildah storage", dir / "not/yet/created"}}, *free + (1ULL << 40),
                        [&] { ++lows; });
    auto reasons = tight.reasons();
    ASSERT_EQ(reasons.size(), 2u) << "a path that does not exist yet is measured at its parent";
    EXPECT_NE(reasons[0].find("data dir " + dir.path()), std::string::npos) << reasons[0];
    EXPECT_NE(reasons[0].find("builder.min_free_space"), std::string::npos) << reasons[0];
    EXPECT_EQ(tight.reasons().size(), 2u);
    EXPECT_EQ(lows, 1) << "on_low runs when the space drops, not on every check";

    DiskWatermark roomy({{"data dir", dir.path()}}, 1, [&] { ++lows; });
    EXPECT_TRUE(roomy.reasons().empty());
    EXPECT_EQ(hookyard::pipeline::format_bytes(1536ULL << 20), "1.5 GiB");
}

TEST(PullPolicy, EachBuilderPullValueIsTheBuildahFlagOfTheSameMeaning) {
    using hookyard::pipeline::buildah_pull_flag;
    EXPECT_EQ(buildah_pull_flag("always"), "--pull=always");
    EXPECT_EQ(buildah_pull_flag("missing"), "--pull=false");
    EXPECT_EQ(buildah_pull_flag("never"), "--pull=never");
}
