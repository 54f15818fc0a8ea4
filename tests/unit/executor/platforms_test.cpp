// Which platforms this host can build (binfmt_misc handlers, read from a directory the test makes) and
// BuildKit's automatic build args.

#include "pipeline/executor/platforms.hpp"

#include <gtest/gtest.h>

#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

// A platform of another architecture than the host's, and its QEMU handler's name.
std::pair<std::string, std::string> foreign_platform() {
    if (config::host_platform().arch == "arm64") return {"linux/amd64", "qemu-x86_64"};
    return {"linux/arm64", "qemu-aarch64"};
}

TEST(PlatformSupport, ForeignPlatformsNeedAnEnabledQemuHandler) {
    test::TempDir binfmt;
    const PlatformSupport support(binfmt.path());
    const auto [foreign, handler] = foreign_platform();
    EXPECT_TRUE(support.check({config::host_platform().text()}).ok()) << "the host's platform runs natively";
    auto missing = support.check({config::host_platform().text(), foreign});
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(missing.error().message.find("install the Debian package qemu-user-static"), std::string::npos)
        << missing.error().message;
    EXPECT_NE(missing.error().message.find(handler), std::string::npos) << missing.error().message;

    test::write_file(binfmt.path() + "/" + handler, "disabled\ninterpreter /usr/libexec/qemu-binfmt/x\n");
    EXPECT_FALSE(support.check({foreign}).ok()) << "a disabled handler runs nothing";
    test::write_file(binfmt.path() + "/" + handler, "enabled\ninterpreter /usr/libexec/qemu-binfmt/x\n");
    EXPECT_TRUE(support.check({foreign}).ok());
    EXPECT_NE(support.describe().find(foreign + " (QEMU)"), std::string::npos) << support.describe();
}

TEST(PlatformSupport, WarnsOncePerConfiguredPlatformThatCannotBeBuilt) {
    test::TempDir binfmt;
    const auto [foreign, handler] = foreign_platform();
    config::Config cfg;
    cfg.builder.platforms = {config::host_platform().text(), foreign};
    cfg.repositories.emplace_back();
    cfg.repositories[0].rules.emplace_back();
    cfg.repositories[0].rules[0].platforms = {foreign};
    const auto lines = PlatformSupport(binfmt.path()).warnings(cfg);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("qemu-user-static"), std::string::npos) << lines[0];
}

TEST(PlatformBuildArgs, AreSetAsBuildxSetsThem) {
    const auto args =
        platform_build_args(*config::parse_platform("linux/arm/v7"), *config::parse_platform("linux/amd64"));
    const std::map<std::string, std::string> expected = {
        {"TARGETPLATFORM", "linux/arm/v7"}, {"TARGETOS", "linux"}, {"TARGETARCH", "arm"}, {"TARGETVARIANT", "v7"},
        {"BUILDPLATFORM", "linux/amd64"},   {"BUILDOS", "linux"},  {"BUILDARCH", "amd64"}};
    EXPECT_EQ(args, expected);
}

}  // namespace
}  // namespace hookyard::pipeline
