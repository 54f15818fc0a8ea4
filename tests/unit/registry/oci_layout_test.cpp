// Reading OCI layouts: selection by name, index children, and the errors for broken layouts.

#include "pipeline/registry/oci_layout.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/oci_layout_writer.hpp"
#include "tests/support/support.hpp"
#include "util/digest.hpp"

namespace hookyard::pipeline {
namespace {

TEST(Digest, MatchesKnownSha256AndValidatesTheForm) {
    EXPECT_EQ(util::sha256_digest("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_TRUE(util::is_valid_digest("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    EXPECT_FALSE(util::is_valid_digest("sha256:../../etc/passwd"));
    EXPECT_FALSE(util::is_valid_digest("sha512:ba78"));
    util::Sha256 h;
    h.update("a");
    util::Sha256 snapshot;
    h.copy_to(snapshot);
    h.update("bc");
    EXPECT_EQ(h.digest(), util::sha256_digest("abc"));
    snapshot.update("bc");
    EXPECT_EQ(snapshot.digest(), util::sha256_digest("abc"));
}

TEST(OciLayout, LoadsAManifestWithItsConfigAndLayers) {
    test::TempDir dir;
    const std::string digest = test::write_test_image(dir / "l", {10, 20}, 1);
    auto image = load_oci_layout(dir / "l");
    ASSERT_TRUE(image.ok()) << image.error().message;
    EXPECT_EQ(image->root.descriptor.digest, digest);
    EXPECT_EQ(image->root.descriptor.media_type, k_oci_manifest);
    EXPECT_EQ(image->blobs.size(), 3u);
    EXPECT_TRUE(image->children.empty());
    EXPECT_EQ(util::sha256_digest(image->root.content), digest);
}

TEST(OciLayout, LoadsAnIndexWithChildrenAndSharedBlobsOnce) {
    test::TempDir dir;
    test::OciLayoutWriter w(dir / "l");
    const auto shared = w.add_random_blob(100, 1);
    const auto a = w.add_manifest({shared}, "a", "amd64");
    const auto b = w.add_manifest({shared}, "b", "arm64");
    w.set_root(w.add_index({{a, "amd64"}, {b, "arm64"}}));
    auto image = load_oci_layout(dir / "l");
    ASSERT_TRUE(image.ok()) << image.error().message;
    EXPECT_TRUE(is_index_media_type(image->root.descriptor.media_type));
    ASSERT_EQ(image->children.size(), 2u);
    EXPECT_EQ(image->blobs.size(), 3u);  // two configs + one shared layer
}

TEST(OciLayout, PicksAnImageByNameWhenSeveralAreStored) {
    test::TempDir dir;
    test::OciLayoutWriter w(dir / "l");
    const auto one = w.add_manifest({w.add_random_blob(10, 1)}, "one");
    const auto two = w.add_manifest({w.add_random_blob(10, 2)}, "two");
    nlohmann::json index = {{"schemaVersion", 2}, {"manifests", nlohmann::json::array()}};
    for (const auto& [d, name] : {std::pair{one, "one"}, std::pair{two, "two"}}) {
        auto j = test::OciLayoutWriter::descriptor_json(d);
        j["annotations"] = {{"org.opencontainers.image.ref.name", name}};
        index["manifests"].push_back(j);
    }
    test::write_file(dir / "l/index.json", index.dump());
    auto picked = load_oci_layout(dir / "l", "two");
    ASSERT_TRUE(picked.ok()) << picked.error().message;
    EXPECT_EQ(picked->root.descriptor.digest, two.digest);
    auto ambiguous = load_oci_layout(dir / "l");
    ASSERT_FALSE(ambiguous.ok());
    EXPECT_NE(ambiguous.error().message.find("holds several images (one, two)"), std::string::npos);
    auto unknown = load_oci_layout(dir / "l", "three");
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.error().message.find("no image named 'three'"), std::string::npos);
}

// Found by fuzz/oci_layout_fuzz.cpp: a ref name that is not a string threw nlohmann's type_error out of the loader.
TEST(OciLayout, ARefNameThatIsNotAStringIsAnError) {
    test::TempDir dir;
    test::OciLayoutWriter w(dir / "l");
    auto entry = test::OciLayoutWriter::descriptor_json(w.add_manifest({w.add_random_blob(10, 1)}, "one"));
    entry["annotations"] = {{"org.opencontainers.image.ref.name", 5}};
    test::write_file(dir / "l/index.json",
                     nlohmann::json{{"schemaVersion", 2}, {"manifests", nlohmann::json::array({entry})}}.dump());
    auto image = load_oci_layout(dir / "l", "latest");
    ASSERT_FALSE(image.ok());
    EXPECT_NE(image.error().message.find("annotation is not a string"), std::string::npos);
}

TEST(OciLayout, BrokenLayoutsNameTheProblem) {
    test::TempDir dir;
    auto not_layout = load_oci_layout(dir.path());
    ASSERT_FALSE(not_layout.ok());
    EXPECT_NE(not_layout.error().message.find("is not an OCI image layout"), std::string::npos);

    test::OciLayoutWriter w(dir / "l");
    const auto layer = w.add_random_blob(1000, 3);
    const auto m = w.add_manifest({layer}, "x");
    w.set_root(m);
    std::filesystem::remove(w.blob_path(layer.digest));
    auto missing = load_oci_layout(dir / "l");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("blob " + layer.digest + " is missing from the layout"), std::string::npos);

    test::write_file(w.blob_path(m.digest), "{\"tampered\":true}");
    auto corrupt = load_oci_layout(dir / "l");
    ASSERT_FALSE(corrupt.ok());
    EXPECT_NE(corrupt.error().message.find("does not match its digest"), std::string::npos);
}

}  // namespace
}  // namespace hookyard::pipeline
