#include "pipeline/executor/hooks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

TEST(DockerHubVars, ImageNameIsRepoColonTagWhenUnset) {
    DockerHubVars vars;
    vars.docker_repo = "docker.io/acme/web";
    vars.docker_tag = "v1";
    EXPECT_EQ(vars.to_map()["IMAGE_NAME"], "docker.io/acme/web:v1");
    vars.image_name = "other:x";
    EXPECT_EQ(vars.to_map()["IMAGE_NAME"], "other:x");
    EXPECT_EQ(vars.to_map().size(), 7u);
}

TEST(HookCommand, ExecutableRunsDirectlyOtherwiseViaShebangOrSh) {
    test::TempDir dir;
    test::write_file(dir / "exec", "#!/bin/sh\ntrue\n", true);
    test::write_file(dir / "bash", "#!/usr/bin/env bash\ntrue\n");
    test::write_file(dir / "plain", "echo hi\n");
    test::write_file(dir / "noshebang", "echo hi\n", true);
    EXPECT_EQ(hook_command(dir / "exec"), std::vector<std::string>{dir / "exec"});
    EXPECT_EQ(hook_command(dir / "bash"), (std::vector<std::string>{"/usr/bin/env", "bash", dir / "bash"}));
    EXPECT_EQ(hook_command(dir / "plain"), (std::vector<std::string>{"/bin/sh", dir / "plain"}));
    EXPECT_EQ(hook_command(dir / "noshebang"), (std::vector<std::string>{"/bin/sh", dir / "noshebang"}));
}

TEST(HookEnvironment, BuildArgsOverrideDockerHubVarsWhichOverrideBase) {
    BuildRequest request;
    request.docker_hub.source_branch = "main";
    request.docker_hub.docker_tag = "latest";
    request.build_args = {{"DOCKER_TAG", "custom"}, {"CHANNEL", "stable"}};
    const auto env = hook_environment(request, {{"PATH", "/bin"}, {"SOURCE_BRANCH", "base"}});
    EXPECT_EQ(env.at("PATH"), "/bin");
    EXPECT_EQ(env.at("SOURCE_BRANCH"), "main");
    EXPECT_EQ(env.at("DOCKER_TAG"), "custom");
    EXPECT_EQ(env.at("CHANNEL"), "stable");
}

TEST(HookRun, FailingHookIsNamedWithItsExitCode) {
    test::TempDir dir;
    test::write_file(dir / "Dockerfile", "FROM scratch\n");
    test::write_file(dir / "hooks/pre_build", "echo about to fail\nexit 7\n");
    BuildRequest request;
    request.dockerfile = dir / "Dockerfile";
    request.hooks = true;
    std::vector<std::string> lines;
    const CancelSignal never;
    const ChildLimits limits{std::chrono::steady_clock::now() + std::chrono::seconds(30)};
    const auto status = run_hook_file(
        Hook::pre_build, request, {}, [&](std::string_view l) { lines.emplace_back(l); }, limits, never);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(status.error().message.find("hooks/pre_build failed with exit code 7"), std::string::npos);
    EXPECT_NE(std::find(lines.begin(), lines.end(), "about to fail"), lines.end());
}

TEST(HookRun, DisabledOrMissingHookRunsNothing) {
    test::TempDir dir;
    test::write_file(dir / "Dockerfile", "FROM scratch\n");
    test::write_file(dir / "hooks/pre_build", "touch " + (dir / "ran") + "\n");
    BuildRequest request;
    request.dockerfile = dir / "Dockerfile";
    const CancelSignal never;
    const ChildLimits limits{std::chrono::steady_clock::now() + std::chrono::seconds(30)};
    bool ran = true;
    EXPECT_TRUE(run_hook_file(Hook::pre_build, request, {}, {}, limits, never, &ran).ok());
    EXPECT_FALSE(ran);
    request.hooks = true;
    EXPECT_TRUE(run_hook_file(Hook::post_build, request, {}, {}, limits, never, &ran).ok());
    EXPECT_FALSE(ran);
    EXPECT_TRUE(run_hook_file(Hook::pre_build, request, {}, {}, limits, never, &ran).ok());
    EXPECT_TRUE(ran);
    EXPECT_TRUE(std::filesystem::exists(dir / "ran"));
}

}  // namespace
}  // namespace hookyard::pipeline
