// The layer-cache budget's image listings, on output captured from buildah 1.28 and containers-storage.
#include "pipeline/image_budget.hpp"

#include <gtest/gtest.h>

namespace hookyard::pipeline {
namespace {

// `buildah images --all --no-trunc --json 2>&1` with a damaged image in the storage: libimage's warnings
// come first, and one of them holds a '[' before the list does.
const std::string k_listing_with_warnings =
    R"(time="2026-12-03T15:37:56Z" level=warning msg="Failed to determine if an image is a manifest list: locating item named \"manifest\" for image with ID \"50fc2436719426dde0ad2f77184671821826aa9ebd9dd0430c61172f93b46fed\" (consider removing the image to resolve the issue): file does not exist, ignoring the error"
Error: loading image manifest for "containers-storage:[overlay@/var/lib/containers/storage+/run/containers/storage]@50fc"
[
    {
        "id": "sha256:a678c71aad7f48329fc4281e910ac5d93680619c2b095bc0e00872497c75998b",
        "names": null,
        "created": 1796312222,
        "readonly": false
    },
    {
        "id": "sha256:55dba1ec647af035e2d240f62b40f1dd75b7441f71104550488f7e31bd31a61b",
        "names": ["localhost/base:1"],
        "created": 1796312221
    }
]
time="2026-12-03T15:37:57Z" level=warning msg="a warning after the list [1]"
)";

// overlay-images/images.json of a storage where a killed commit left image 50fc… without its manifest
// (only a `.tmp-` file on disk) and image 9d1e… points at a layer that is gone.
const std::string k_images_json = R"([
 {"id": "50fc2436719426dde0ad2f77184671821826aa9ebd9dd0430c61172f93b46fed",
  "layer": "b473f93b38aa953cc5c45ff8b119527390e4006922e4452375ebbc2d05c8313d",
  "created": "2026-12-03T15:37:01.296022258Z"},
 {"id": "a678c71aad7f48329fc4281e910ac5d93680619c2b095bc0e00872497c75998b",
  "layer": "b473f93b38aa953cc5c45ff8b119527390e4006922e4452375ebbc2d05c8313d",
  "big-data-names": ["sha256:a678c71aad7f48329fc4281e910ac5d93680619c2b095bc0e00872497c75998b", "manifest"],
  "created": "2026-12-03T15:37:02.561056032Z"},
 {"id": "9d1e000000000000000000000000000000000000000000000000000000000000",
  "names": ["localhost/base:1"],
  "layer": "0000000000000000000000000000000000000000000000000000000000000000",
  "big-data-names": ["manifest"],
  "created": "2026-12-03T15:37:03Z"}
])";
const std::string k_layers_json =
    R"([{"id": "b473f93b38aa953cc5c45ff8b119527390e4006922e4452375ebbc2d05c8313d", "diff-size": 1984512}])";

TEST(BudgetImageListing, ReadsBuildahsListPastWarningsThatHoldBrackets) {
    auto images = parse_buildah_images(k_listing_with_warnings);
    ASSERT_TRUE(images.ok()) << images.error().message;
    ASSERT_EQ(images->size(), 2u);
    EXPECT_EQ((*images)[0].id, "sha256:a678c71aad7f48329fc4281e910ac5d93680619c2b095bc0e00872497c75998b");
    EXPECT_EQ((*images)[0].created, 1796312222);
    EXPECT_FALSE((*images)[0].tagged);
    EXPECT_TRUE((*images)[1].tagged);
}

TEST(BudgetImageListing, AnEmptyStorageAndNoListAreTold) {
    auto empty = parse_buildah_images("[]\n");
    ASSERT_TRUE(empty.ok()) << empty.error().message;
    EXPECT_TRUE(empty->empty());
    EXPECT_FALSE(parse_buildah_images("Error: locating layer with ID \"0000\": layer not known\n").ok());
}

TEST(BudgetImageListing, StorageRecordsNameTheDamagedImages) {
    auto images = parse_storage_images(k_images_json, k_layers_json);
    ASSERT_TRUE(images.ok()) << images.error().message;
    ASSERT_EQ(images->size(), 3u);
    EXPECT_EQ((*images)[0].id, "sha256:50fc2436719426dde0ad2f77184671821826aa9ebd9dd0430c61172f93b46fed");
    EXPECT_EQ((*images)[0].damaged, "its manifest was never written");
    EXPECT_FALSE((*images)[0].tagged);
    EXPECT_EQ((*images)[0].created, 1796312221);  // 2026-12-03T15:37:01Z, as buildah says
    EXPECT_EQ((*images)[1].damaged, "");
    EXPECT_NE((*images)[2].damaged.find("top layer 0000"), std::string::npos) << (*images)[2].damaged;
    EXPECT_TRUE((*images)[2].tagged);
    EXPECT_FALSE(parse_storage_images("", k_layers_json).ok());
}

}  // namespace
}  // namespace hookyard::pipeline
