// What hookyard reads from one multi-platform buildah build's output (buildah 1.28's format, as printed by
// `buildah build --platform linux/amd64,linux/arm64 --jobs 2`), and buildah's names of platforms.

#include "pipeline/executor/buildah_multi.hpp"

#include <gtest/gtest.h>

namespace hookyard::pipeline {
namespace {

std::string buildah_name(const std::string& text) { return buildah_platform_name(*config::parse_platform(text)); }

TEST(BuildahPlatformName, IsContainerdsNormalisedFormAsBuildahPrintsIt) {
    const std::pair<const char*, const char*> names[] = {{"linux/amd64", "linux/amd64"},
                                                         {"linux/arm", "linux/arm/v7"},
                                                         {"linux/arm/v6", "linux/arm/v6"},
                                                         {"linux/arm64/v8", "linux/arm64"}};
    for (const auto& [ours, buildahs] : names) EXPECT_EQ(buildah_name(ours), buildahs) << ours;
}

TEST(PlatformOutput, AttributesPrefixedLinesAndMarksEachPlatformsStartAndCommit) {
    PlatformOutput out({"linux/amd64", "linux/arm64"});
    const auto first = out.observe("[linux/arm64] STEP 1/3: FROM scratch");
    ASSERT_TRUE(first.platform.has_value());
    EXPECT_EQ(*first.platform, 1u);
    EXPECT_TRUE(first.first);
    EXPECT_EQ(first.text, "STEP 1/3: FROM scratch");
    EXPECT_FALSE(out.observe("[linux/arm64] STEP 2/3: COPY busybox /bin/busybox").first);
    EXPECT_FALSE(out.observe("--> 57490350f94").platform.has_value()) << "buildah does not prefix image ids";

    const auto multi_stage = out.observe("[linux/amd64] [2/2] STEP 3/3: RUN echo COMMIT");
    EXPECT_TRUE(multi_stage.first);
    EXPECT_FALSE(multi_stage.committed) << "a step mentioning COMMIT is not the commit";
    EXPECT_TRUE(out.observe("[linux/amd64] [2/2] COMMIT").committed);
    EXPECT_TRUE(out.committed(0));
    EXPECT_FALSE(out.committed(1));
    EXPECT_TRUE(out.observe("[linux/arm64] COMMIT localhost/x").committed);
}

TEST(PlatformOutput, OnlyABare64HexLineIsAnImageId) {
    PlatformOutput out({"linux/amd64", "linux/arm/v7"});
    const std::string id(64, 'a');
    EXPECT_TRUE(out.observe(id).image_id);
    EXPECT_FALSE(out.observe(id + " ").image_id);
    EXPECT_FALSE(out.observe(std::string(64, 'A')).image_id);
    EXPECT_FALSE(out.observe("--> " + id.substr(0, 11)).image_id);
    EXPECT_FALSE(out.observe("[linux/arm] STEP 1/2: FROM scratch").platform.has_value())
        << "buildah prints linux/arm as linux/arm/v7";
    EXPECT_EQ(out.observe("[linux/arm/v7] STEP 1/2: FROM scratch").platform, std::optional<std::size_t>(1));
}

}  // namespace
}  // namespace hookyard::pipeline
