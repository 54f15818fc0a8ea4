// Labels stamped into an exported OCI layout: the result must load as a valid layout (digests and sizes
// checked by the push path's loader) and carry the labels next to the config's own.
#include "pipeline/executor/oci_labels.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/oci_layout_writer.hpp"
#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

// The Labels of the image config that the layout's image `ref` points at.
nlohmann::json labels_of(const std::string& dir, const std::string& ref) {
    auto image = load_oci_layout(dir, ref);
    EXPECT_TRUE(image.ok()) << image.error().message;
    if (!image) return {};
    const auto manifest = nlohmann::json::parse(image->root.content);
    const auto config =
        nlohmann::json::parse(test::read_file(image->blob_path(manifest["config"]["digest"].get<std::string>())));
    return config["config"]["Labels"];
}

std::size_t blob_count(const std::string& dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir + "/blobs/sha256")) ++n;
    return n;
}

TEST(StampLayoutLabels, WritesTheLabelsIntoANewConfigAndManifestTheLayoutNames) {
    test::TempDir dir;
    const std::string layout = dir / "layout";
    const std::string before = test::write_test_image(layout, {1000}, 7, "v1");
    const std::size_t blobs = blob_count(layout);
    const auto built_manifest = nlohmann::json::parse(test::read_file(layout + "/blobs/sha256/" + before.substr(7)));
    const std::string built_config = built_manifest["config"]["digest"];
    auto stamped =
        stamp_layout_labels(layout, "v1", {{"org.opencontainers.image.revision", "abc123"}, {"test", "overridden"}});
    ASSERT_TRUE(stamped.ok()) << stamped.error().message;
    EXPECT_NE(stamped->manifest_digest, before);
    auto image = load_oci_layout(layout, "v1");
    ASSERT_TRUE(image.ok()) << image.error().message;
    EXPECT_EQ(image->root.descriptor.digest, stamped->manifest_digest);
    EXPECT_EQ(stamped->built_config, built_config);
    const auto labels = labels_of(layout, "v1");
    EXPECT_EQ(labels["org.opencontainers.image.revision"], "abc123") << labels.dump();
    EXPECT_EQ(labels["test"], "overridden") << labels.dump();
    // The replaced config and manifest are gone: the layout holds what it held, relabelled.
    EXPECT_EQ(blob_count(layout), blobs);
    EXPECT_FALSE(std::filesystem::exists(layout + "/blobs/sha256/" + before.substr(7)));
}

TEST(StampLayoutLabels, NoLabelsLeaveTheLayoutAsItWas) {
    test::TempDir dir;
    const std::string layout = dir / "layout";
    const std::string before = test::write_test_image(layout, {10}, 8);
    const std::string index = test::read_file(layout + "/index.json");
    auto stamped = stamp_layout_labels(layout, "latest", {});
    ASSERT_TRUE(stamped.ok()) << stamped.error().message;
    EXPECT_EQ(stamped->manifest_digest, before);
    EXPECT_EQ(test::read_file(layout + "/index.json"), index);
}

TEST(StampLayoutLabels, AnUnknownReferenceOrDamagedLayoutIsAnErrorNamingTheFile) {
    test::TempDir dir;
    const std::string layout = dir / "layout";
    test::write_test_image(layout, {10}, 9);
    auto missing = stamp_layout_labels(layout, "nope", {{"a", "b"}});
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("index.json has no image named 'nope'"), std::string::npos)
        << missing.error().message;
    test::write_file(layout + "/index.json", "{not json");
    auto damaged = stamp_layout_labels(layout, "latest", {{"a", "b"}});
    ASSERT_FALSE(damaged.ok());
    EXPECT_NE(damaged.error().message.find(layout + "/index.json"), std::string::npos) << damaged.error().message;
}

}  // namespace
}  // namespace hookyard::pipeline
