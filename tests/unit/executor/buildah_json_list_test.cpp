// buildah_json_list: the JSON list a `buildah … --json` command printed, past warnings on the same stream.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pipeline/executor/buildah_run.hpp"

namespace hookyard::pipeline {
namespace {

TEST(BuildahJsonList, SkipsWarningsThatHoldABracketBeforeAndAfterTheList) {
    const std::string output =
        "WARN[0000] containers-storage:[overlay@/var/lib/containers/storage] is in use\n"
        "[\n  {\"id\": \"a\"},\n  {\"id\": \"b\"}\n]\n"
        "WARN[0001] [after] the list\n";
    const auto list = buildah_json_list(output, "buildah containers --json");
    ASSERT_TRUE(list.ok()) << list.error().message;
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[1]["id"], "b");
}

TEST(BuildahJsonList, AnEmptyListOrNullIsEmptyAndNoListIsAnErrorNamingTheCommand) {
    const auto empty = buildah_json_list("[]\n", "buildah images");
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->empty());
    const auto none = buildah_json_list("WARN[0000] something\nnull\n", "buildah containers --json");
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty());
    const auto broken = buildah_json_list("Error: layer not known\n", "buildah images");
    ASSERT_FALSE(broken.ok());
    EXPECT_NE(broken.error().message.find("buildah images printed no JSON list"), std::string::npos);
}

}  // namespace
}  // namespace hookyard::pipeline
