// The build identity's parts: what a Dockerfile's FROM and ARG lines say, the context digest (content, not
// commit), and which changes change the identity.

#include "pipeline/build_identity.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/support.hpp"

using namespace hookyard::pipeline;
using hookyard::test::TempDir;
using hookyard::test::write_file;

TEST(BuildIdentity, FromLinesNameBaseImagesWithoutStagesScratchOrFlags) {
    const auto facts = read_dockerfile(
        "# syntax comment\n"
        "ARG BASE=debian:12\n"
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n"
        "ARG SOURCE_COMMIT\n"
        "RUN make \\\n"
        "    all\n"
        "FROM $BASE\n"
        "COPY --from=build /app /app\n"
        "from build AS again\n"
        "FROM scratch\n"
        "FROM ${REGISTRY:-docker.io}/library/alpine:3@sha256:abc\n"
        "FROM golang:1.22\n",
        {});
    EXPECT_EQ(facts.bases,
              (std::vector<std::string>{"golang:1.22", "debian:12", "docker.io/library/alpine:3@sha256:abc"}));
    EXPECT_EQ(facts.declared_args, (std::set<std::string>{"BASE", "SOURCE_COMMIT"}));
    EXPECT_EQ(facts.unresolved, "");
}

TEST(BuildIdentity, BuildArgsFillFromAndAnUnsetVariableIsUnresolved) {
    EXPECT_EQ(read_dockerfile("ARG BASE=debian:12\nFROM ${BASE}\n", {{"BASE", "debian:11"}}).bases,
              std::vector<std::string>{"debian:11"});
    EXPECT_EQ(read_dockerfile("FROM $IMAGE\n", {}).unresolved, "$IMAGE");
    const auto automatic = declared_automatic_args(read_dockerfile("FROM scratch\nARG DOCKER_TAG\n", {}),
                                                   {{"DOCKER_TAG", "v1"}, {"SOURCE_BRANCH", "main"}});
    EXPECT_EQ(automatic, (std::map<std::string, std::string>{{"DOCKER_TAG", "v1"}}));
}

TEST(BuildIdentity, ContextDigestFollowsContentModeAndPathsButNotGit) {
    TempDir a, b;
    for (const auto* dir : {&a, &b}) {
        write_file(dir->path() + "/Dockerfile", "FROM scratch\n");
        write_file(dir->path() + "/bin/tool", "#!/bin/sh\n", true);
    }
    write_file(a.path() + "/.git/HEAD", "ref: refs/heads/main\n");
    const auto first = context_digest(a.path());
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_EQ(*first, *context_digest(b.path())) << ".git does not count";
    std::filesystem::permissions(b.path() + "/bin/tool", std::filesystem::perms::owner_exec,
                                 std::filesystem::perm_options::remove);
    EXPECT_NE(*first, *context_digest(b.path())) << "the executable bit counts";
    write_file(b.path() + "/bin/tool", "#!/bin/sh\n", true);
    write_file(b.path() + "/extra", "");
    EXPECT_NE(*first, *context_digest(b.path())) << "a new file counts";
    EXPECT_FALSE(context_digest(a.path() + "/missing").ok());
}

TEST(BuildIdentity, EveryInputCountsAndEqualInputsAreEqual) {
    IdentityInputs base;
    base.context_digest = "sha256:c";
    base.dockerfile_path = "Dockerfile";
    base.dockerfile_text = "FROM debian:12\n";
    base.base_digests = {{"debian:12", "sha256:a"}};
    const std::string id = build_identity(base);
    EXPECT_EQ(id, build_identity(base));
    EXPECT_EQ(id.rfind("sha256:", 0), 0u);
    auto changed = [&](auto&& change) {
        IdentityInputs in = base;
        change(in);
        return build_identity(in);
    };
    EXPECT_NE(id, changed([](IdentityInputs& in) { in.context_digest = "sha256:d"; }));
    EXPECT_NE(id, changed([](IdentityInputs& in) { in.dockerfile_path = "x/Dockerfile"; }));
    EXPECT_NE(id, changed([](IdentityInputs& in) { in.dockerfile_text += "RUN true\n"; }));
    EXPECT_NE(id, changed([](IdentityInputs& in) { in.build_args["A"] = "1"; }));
    EXPECT_NE(id, changed([](IdentityInputs& in) { in.automatic_args["DOCKER_TAG"] = "v1"; }));
    EXPECT_NE(id, changed([](IdentityInputs& in) { in.platforms = {"linux/arm64"}; }));
    EXPECT_NE(id, changed([](IdentityInputs& in) { in.hooks = true; }));
    EXPECT_NE(id, changed([](IdentityInputs& in) { in.base_digests["debian:12"] = "sha256:b"; }));
}
