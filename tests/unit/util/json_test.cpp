// The one JSON writer: invalid UTF-8 from outside becomes U+FFFD instead of an exception, and truncation
// never splits a character.

#include "util/json.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace hookyard::util {
namespace {

TEST(ToJsonString, ReplacesInvalidUtf8InsteadOfThrowing) {
    const nlohmann::json j = {{"error", "caf\xc3 \xff; exit 3"}};
    EXPECT_THROW((void)j.dump(), nlohmann::json::type_error) << "the strict dump this helper replaces";
    EXPECT_EQ(to_json_string(j), "{\"error\":\"caf\xef\xbf\xbd \xef\xbf\xbd; exit 3\"}");
}

TEST(TruncateUtf8, CutsOnlyBetweenCharacters) {
    const std::string text =
        "ab\xc3\xa9"
        "c\xe2\x82\xac";  // a b é c €
    EXPECT_EQ(truncate_utf8(text, 100), text);
    EXPECT_EQ(truncate_utf8(text, 4), "ab\xc3\xa9");
    EXPECT_EQ(truncate_utf8(text, 3), "ab") << "the 'é' does not fit whole";
    EXPECT_EQ(truncate_utf8(text, 7),
              "ab\xc3\xa9"
              "c")
        << "nor does the '€'";
    EXPECT_EQ(truncate_utf8(text, 0), "");
}

}  // namespace
}  // namespace hookyard::util
