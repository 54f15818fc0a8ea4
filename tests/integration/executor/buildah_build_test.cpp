// Builds with real buildah: layout validity, CMD, build args, Docker Hub variables, layer cache, errors.

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/integration/executor/build_fixture.hpp"

namespace hookyard::pipeline {
namespace {

using test_fixture::ExecutorTest;
using test_fixture::LogLines;
using test_fixture::nonce;

std::string dockerfile_with_args(const std::string& token) {
    return "FROM scratch\n"
           "COPY busybox /bin/busybox\n"
           "RUN [\"/bin/busybox\",\"--install\",\"-s\",\"/bin\"]\n"
           "RUN echo " +
           token +
           " > /token\n"
           "ARG FOO\n"
           "ARG SOURCE_BRANCH\nARG SOURCE_COMMIT\nARG COMMIT_MSG\nARG DOCKER_REPO\n"
           "ARG DOCKERFILE_PATH\nARG DOCKER_TAG\nARG IMAGE_NAME\n"
           "RUN mkdir -p /out && echo \"foo=$FOO\" > /out/args && "
           "echo \"$SOURCE_BRANCH|$SOURCE_COMMIT|$COMMIT_MSG|$DOCKER_REPO|$DOCKERFILE_PATH|$DOCKER_TAG|$IMAGE_NAME\""
           " > /out/hub\n"
           "CMD [\"/bin/busybox\",\"echo\",\"hello-" +
           token + "\"]\n";
}

TEST_F(ExecutorTest, ProducesValidOciLayoutWithCmdBuildArgsAndDockerHubVariables) {
    const std::string token = nonce();
    const auto ctx = make_context("ctx", dockerfile_with_args(token));
    // Hooks exist but are not enabled: they must not run.
    test::write_file(ctx + "/hooks/pre_build", "#!/bin/sh\ntouch " + (m_dir / "hook-ran") + "\n", true);
    auto request = request_for(ctx, "args");
    request.build_args = {{"FOO", "bar baz"}};
    request.docker_hub = {"main", "0123abcd", "fix: things", "localhost/acme/web", "", "latest", ""};
    LogLines log;
    auto result = build(request, log);
    ASSERT_TRUE(result.ok()) << result.error().message << "\n" << log.text();

    EXPECT_EQ(result->layout_dir, request.layout_dir);
    EXPECT_EQ(result->image_id.rfind("sha256:", 0), 0u);
    EXPECT_EQ(result->manifest_digest.rfind("sha256:", 0), 0u);
    const std::string ref = "oci:" + result->layout_dir + ":" + result->layout_ref;
    EXPECT_NE(skopeo(ref).find("\"Digest\": \"" + result->manifest_digest + "\""), std::string::npos) << skopeo(ref);
    EXPECT_NE(skopeo("--config " + ref).find("\"hello-" + token + "\""), std::string::npos);
    EXPECT_EQ(file_in_layout(result->layout_dir, "out/args"), "foo=bar baz\n");
    EXPECT_EQ(file_in_layout(result->layout_dir, "out/hub"),
              "main|0123abcd|fix: things|localhost/acme/web|Dockerfile|latest|localhost/acme/web:latest\n");
    EXPECT_FALSE(std::filesystem::exists(m_dir / "hook-ran"));
    // Cache on: the image stays in storage (untagged) as the layer cache; the work files are gone.
    EXPECT_TRUE(has_image(result->image_id.substr(7)));
    EXPECT_FALSE(std::filesystem::exists(request.work_dir + "/iid"));
}

TEST_F(ExecutorTest, SecondBuildOfTheSameDockerfileHitsTheLayerCache) {
    const std::string token = nonce();
    const auto ctx = make_context("ctx", dockerfile_with_args(token));
    const std::string step = "STEP 4/14: RUN echo " + token + " > /token";
    LogLines first;
    auto one = build(request_for(ctx, "first"), first);
    ASSERT_TRUE(one.ok()) << one.error().message;
    EXPECT_EQ(first.after(step).rfind("--> Using cache", 0), std::string::npos) << first.text();
    LogLines second;
    auto two = build(request_for(ctx, "second"), second);
    ASSERT_TRUE(two.ok()) << two.error().message;
    EXPECT_EQ(second.after(step).rfind("--> Using cache", 0), 0u) << second.text();
    EXPECT_EQ(one->image_id, two->image_id);
}

TEST_F(ExecutorTest, ProvenanceLabelsReachTheExportedImageAndLeaveNoImageInStorage) {
    // COPY and RUN make an image each (the layer cache); labels that change at every build must add none.
    const auto ctx = make_context(
        "ctx", "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"echo\",\"" + nonce() + "\"]\n");
    const auto image_count = [&] {
        std::string out;
        test::sh(buildah_cli() + " images --all --quiet", &out);
        return std::count(out.begin(), out.end(), '\n');
    };
    std::vector<long> counts;
    for (const std::string commit : {"1111111", "2222222"}) {
        auto request = request_for(ctx, "commit-" + commit);
        request.labels = {{"org.opencontainers.image.revision", commit},
                          {"org.opencontainers.image.created", "2026-01-0" + commit.substr(0, 1) + "T00:00:00Z"}};
        LogLines log;
        auto result = build(request, log);
        ASSERT_TRUE(result.ok()) << result.error().message << log.text();
        EXPECT_EQ(log.text().find("LABEL"), std::string::npos) << log.text();
        const std::string ref = "oci:" + result->layout_dir + ":latest";
        EXPECT_NE(skopeo(ref).find("\"Digest\": \"" + result->manifest_digest + "\""), std::string::npos)
            << skopeo(ref);
        const auto config = nlohmann::json::parse(skopeo("--config " + ref), nullptr, false);
        ASSERT_TRUE(config.is_object()) << skopeo("--config " + ref);
        EXPECT_EQ(config["config"]["Labels"]["org.opencontainers.image.revision"], commit) << config.dump(2);
        counts.push_back(image_count());
    }
    EXPECT_LE(counts[0], 2) << "more images than the Dockerfile's steps";
    EXPECT_EQ(counts[1], counts[0]) << "the second commit's labels left images in buildah's storage";
}

TEST_F(ExecutorTest, CacheOffRebuildsEveryStepAndRemovesTheImage) {
    const std::string token = nonce();
    const auto ctx = make_context("ctx", dockerfile_with_args(token));
    LogLines first;
    ASSERT_TRUE(build(request_for(ctx, "warm"), first).ok());
    auto request = request_for(ctx, "cold");
    request.cache = false;
    LogLines log;
    auto result = build(request, log);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(log.text().find("Using cache"), std::string::npos) << log.text();
    // Written by the build straight into the layout: never in the storage, its layers compressed for the push.
    EXPECT_EQ(result->image_id.size(), 71u) << result->image_id;
    EXPECT_FALSE(has_image(result->image_id.substr(7)));
    EXPECT_EQ(log.text().find("hookyard: buildah push"), std::string::npos) << log.text();
    EXPECT_NE(skopeo("oci:" + result->layout_dir + ":latest").find("Digest"), std::string::npos);
    EXPECT_NE(skopeo("--raw oci:" + result->layout_dir + ":latest").find("tar+gzip"), std::string::npos);
}

TEST_F(ExecutorTest, FailingRunFailsWithItsDockerfileLine) {
    const auto ctx = make_context("ctx",
                                  "FROM scratch\nCOPY busybox /bin/busybox\n\nRUN [\"/bin/busybox\",\"sh\","
                                  "\"-c\",\"echo " +
                                      nonce() + "; exit 3\"]\n");
    auto request = request_for(ctx, "fail");
    LogLines log;
    auto result = build(request, log);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(result.error().message.find("Dockerfile:4: RUN"), std::string::npos) << result.error().message;
    EXPECT_NE(result.error().message.find("exit status 3"), std::string::npos) << result.error().message;
    EXPECT_FALSE(std::filesystem::exists(request.layout_dir));
}

TEST_F(ExecutorTest, DockerfileSyntaxErrorNamesTheLine) {
    const auto e = build_error("syntax", "FROM scratch\nCOPY busybox /bin/busybox\nBOGUS instruction\n");
    EXPECT_EQ(e.kind, util::ErrorKind::invalid_input);
    EXPECT_NE(e.message.find("Dockerfile:3: BOGUS instruction: "), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("Unknown instruction"), std::string::npos) << e.message;
}

TEST_F(ExecutorTest, UnpullableFromImageIsNamed) {
    // No network here: the pull fails at once (DNS), which is what this test relies on.
    const auto e = build_error("pull", "FROM docker.io/library/alpine:3.18\nRUN true\n");
    EXPECT_EQ(e.kind, util::ErrorKind::not_found);
    EXPECT_NE(e.message.find("FROM image docker.io/library/alpine:3.18 cannot be pulled"), std::string::npos)
        << e.message;
}

TEST_F(ExecutorTest, MissingBuildahNamesTheDebianPackage) {
    BuildahOptions options;
    options.env = {{"PATH", m_dir.path()}};
    auto executor = make_buildah_executor(options);
    const auto ctx = make_context("ctx", "FROM scratch\n");
    auto result = executor->start(request_for(ctx, "nobuildah"), {})->wait();
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, util::ErrorKind::not_found);
    EXPECT_NE(result.error().message.find("install the Debian package buildah"), std::string::npos);
}

TEST_F(ExecutorTest, ImagesGoToTheConfiguredStorageRootOnly) {
    const auto ctx = make_context("ctx", "FROM scratch\nCOPY busybox /bin/busybox\nCMD [\"" + nonce() + "\"]\n");
    LogLines log;
    auto result = build(request_for(ctx, "isolated"), log);
    ASSERT_TRUE(result.ok()) << result.error().message << log.text();
    const std::string id = result->image_id.substr(7);
    EXPECT_TRUE(has_image(id));
    EXPECT_NE(test::sh("buildah inspect --type image " + id + " >/dev/null 2>&1"), 0);
}

TEST_F(ExecutorTest, NonEmptyLayoutDirIsRefusedAndLeftAlone) {
    const auto ctx = make_context("ctx", "FROM scratch\n");
    auto request = request_for(ctx, "occupied");
    test::write_file(request.layout_dir + "/keep", "mine");
    LogLines log;
    auto result = build(request, log);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, util::ErrorKind::conflict);
    EXPECT_EQ(test::read_file(request.layout_dir + "/keep"), "mine");
}

TEST_F(ExecutorTest, TwoBuildsAtOnceDoNotInterfere) {
    const std::string token = nonce();
    auto dockerfile = [&](const std::string& what) {
        return "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\",\"sh\",\"-c\",\"echo " + what +
               " > /which\"]\nCMD [\"/bin/busybox\",\"echo\",\"" + what + "\"]\n";
    };
    const auto ctx_a = make_context("a", dockerfile("alpha-" + token));
    const auto ctx_b = make_context("b", dockerfile("beta-" + token));
    LogLines log_a;
    LogLines log_b;
    auto job_a = m_executor->start(request_for(ctx_a, "a"), log_a.sink());
    auto job_b = m_executor->start(request_for(ctx_b, "b"), log_b.sink());
    auto a = job_a->wait();
    auto b = job_b->wait();
    ASSERT_TRUE(a.ok()) << a.error().message << log_a.text();
    ASSERT_TRUE(b.ok()) << b.error().message << log_b.text();
    EXPECT_NE(a->image_id, b->image_id);
    EXPECT_EQ(file_in_layout(a->layout_dir, "which"), "alpha-" + token + "\n");
    EXPECT_EQ(file_in_layout(b->layout_dir, "which"), "beta-" + token + "\n");
    EXPECT_NE(skopeo("--config oci:" + a->layout_dir + ":latest").find("alpha-" + token), std::string::npos);
    EXPECT_NE(skopeo("--config oci:" + b->layout_dir + ":latest").find("beta-" + token), std::string::npos);
}

}  // namespace
}  // namespace hookyard::pipeline
