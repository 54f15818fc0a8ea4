// A 1 GiB layer goes from disk to the registry in a stream: `hookyard push` keeps a flat, small memory.

#include <gtest/gtest.h>

#include <regex>

#include "tests/integration/registry/registry_fixture.hpp"
#include "tests/support/oci_layout_writer.hpp"

namespace hookyard::test {
namespace {

constexpr long k_max_rss_kb = 64 * 1024;

TEST(LargeBlobPush, OneGibLayerIsPushedWithFlatMemory) {
    ASSERT_TRUE(have_program("/usr/bin/time") || std::ifstream("/usr/bin/time").good());
    RegistryServer registry;
    TempDir dir;
    const std::string digest = write_test_image(dir / "layout", {1ull << 30, 4096}, 41);

    std::string output;
    const int code = run({"/usr/bin/time", "-f", "maxrss_kb=%M", binary_dir() + "/hookyard", "push", dir / "layout",
                          registry.host() + "/big/app:v1", "--insecure-http"},
                         &output);
    ASSERT_EQ(code, 0) << output;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(output, m, std::regex("maxrss_kb=([0-9]+)"))) << output;
    const long rss_kb = std::stol(m[1].str());
    EXPECT_LT(rss_kb, k_max_rss_kb) << "peak RSS of hookyard push was " << rss_kb << " KiB";
    ASSERT_TRUE(std::regex_search(output, m, std::regex("uploaded \\(([0-9]+) bytes\\)"))) << output;
    EXPECT_GT(std::stoll(m[1].str()), 1ll << 30);
    EXPECT_EQ(skopeo_digest(registry, "big/app:v1"), digest);
}

}  // namespace
}  // namespace hookyard::test
