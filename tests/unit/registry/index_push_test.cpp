// Assembling a multi-platform image from one OCI layout per platform: the OCI index or Docker manifest
// list at the root, each platform's manifest (converted to Docker's media types for a list) as a child,
// every blob once, read from its own layout.

#include "pipeline/registry/index_push.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/oci_layout_writer.hpp"
#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

constexpr const char* k_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";

class PlatformIndex : public ::testing::Test {
protected:
    // A layout for `arch` with a layer shared by every platform, one of its own and `extra` layers.
    PlatformImage image_for(const std::string& arch, const std::string& layer_type = k_gzip) {
        test::OciLayoutWriter w(m_dir / arch);
        const auto shared = w.add_blob("shared layer", k_gzip);
        const auto own = w.add_blob("layer of " + arch, layer_type);
        w.set_root(w.add_manifest({shared, own}, arch, arch));
        auto image = load_oci_layout(m_dir / arch);
        EXPECT_TRUE(image.ok());
        return {*config::parse_platform("linux/" + arch), std::move(*image)};
    }

    test::TempDir m_dir;
};

TEST_F(PlatformIndex, OciIndexListsEachManifestWithItsPlatformAndEveryBlobOnce) {
    const std::vector<PlatformImage> images = {image_for("amd64"), image_for("arm64")};
    auto index = make_platform_index(images, config::ManifestFormat::oci);
    ASSERT_TRUE(index.ok()) << index.error().message;
    EXPECT_EQ(index->root.descriptor.media_type, k_oci_index);
    EXPECT_EQ(index->root.descriptor.digest, util::sha256_digest(index->root.content));
    const auto body = nlohmann::json::parse(index->root.content);
    ASSERT_EQ(body["manifests"].size(), 2u);
    EXPECT_EQ(body["manifests"][1]["digest"], images[1].image.root.descriptor.digest);
    EXPECT_EQ(body["manifests"][1]["platform"], nlohmann::json({{"architecture", "arm64"}, {"os", "linux"}}));
    ASSERT_EQ(index->children.size(), 2u);
    EXPECT_EQ(index->children[0].content, images[0].image.root.content) << "OCI children are pushed unchanged";
    EXPECT_EQ(index->blobs.size(), 5u) << "one shared layer, two own layers, two configs";
    // Blobs only the arm64 image has are read from its own layout.
    const auto& amd_blobs = images[0].image.blobs;
    int arm_only = 0;
    for (const auto& blob : images[1].image.blobs) {
        const bool shared = std::any_of(amd_blobs.begin(), amd_blobs.end(),
                                        [&](const Descriptor& d) { return d.digest == blob.digest; });
        if (shared) continue;
        ++arm_only;
        EXPECT_EQ(index->blob_path(blob.digest).rfind(m_dir / "arm64/blobs/", 0), 0u) << index->blob_path(blob.digest);
    }
    EXPECT_EQ(arm_only, 2);
}

TEST_F(PlatformIndex, DockerListConvertsTheManifestsMediaTypes) {
    auto list = make_platform_index({image_for("amd64"), image_for("arm64")}, config::ManifestFormat::docker);
    ASSERT_TRUE(list.ok()) << list.error().message;
    EXPECT_EQ(list->root.descriptor.media_type, k_docker_manifest_list);
    const auto child = nlohmann::json::parse(list->children[1].content);
    EXPECT_EQ(child["mediaType"], k_docker_manifest);
    EXPECT_EQ(child["config"]["mediaType"], "application/vnd.docker.container.image.v1+json");
    EXPECT_EQ(child["layers"][0]["mediaType"], "application/vnd.docker.image.rootfs.diff.tar.gzip");
    const auto root = nlohmann::json::parse(list->root.content);
    EXPECT_EQ(root["manifests"][1]["digest"], list->children[1].descriptor.digest);
    EXPECT_EQ(list->children[1].descriptor.digest, util::sha256_digest(list->children[1].content));
}

TEST_F(PlatformIndex, RefusesWhatCannotBeListed) {
    auto zstd = make_platform_index({image_for("amd64", "application/vnd.oci.image.layer.v1.tar+zstd")},
                                    config::ManifestFormat::docker);
    ASSERT_FALSE(zstd.ok());
    EXPECT_NE(zstd.error().message.find("manifest_format: oci"), std::string::npos);
    EXPECT_FALSE(make_platform_index({}, config::ManifestFormat::oci).ok());
}

TEST(ManifestTypeRefused, RecognisesUnsupportedMediaTypeAnswers) {
    EXPECT_TRUE(is_manifest_type_refused(util::make_error(util::ErrorKind::invalid_input, "… failed with HTTP 415")));
    EXPECT_TRUE(is_manifest_type_refused(util::make_error(
        util::ErrorKind::invalid_input, "tag 'v1' was rejected (MANIFEST_INVALID: manifest invalid)")));
    EXPECT_FALSE(is_manifest_type_refused(util::make_error(util::ErrorKind::auth, "credentials were refused")));
    EXPECT_FALSE(is_manifest_type_refused(util::make_error(util::ErrorKind::transient, "HTTP 503")));
}

}  // namespace
}  // namespace hookyard::pipeline
