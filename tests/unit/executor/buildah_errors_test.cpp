#include "pipeline/executor/buildah_errors.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace hookyard::pipeline {
namespace {

// Real buildah 1.28 output lines (stdout and stderr merged, as the executor reads them).
void feed(BuildahOutputWatch& watch, std::initializer_list<std::string_view> lines) {
    for (auto line : lines) watch.observe(line);
}

// The Dockerfile line of each (stage, step), in order.
std::vector<int> lines_of(const std::string& text, const std::vector<std::pair<int, int>>& steps) {
    std::vector<int> out;
    for (const auto& [stage, step] : steps) out.push_back(dockerfile_line(text, stage, step));
    return out;
}

TEST(DockerfileLine, CountsInstructionsSkippingCommentsBlanksAndContinuations) {
    const std::string text =
        "# syntax comment\n"
        "FROM scratch\n"
        "\n"
        "COPY busybox \\\n"
        "     /bin/busybox\n"
        "# a comment\n"
        "RUN [\"/bin/busybox\",\"false\"]\n";
    EXPECT_EQ(lines_of(text, {{1, 1}, {1, 2}, {1, 3}, {1, 4}}), (std::vector<int>{2, 4, 7, 0}));
}

TEST(DockerfileLine, NumbersStepsPerStageAndIgnoresGlobalArgs) {
    const std::string text =
        "ARG BASE=scratch\n"
        "FROM scratch AS one\n"
        "COPY a /a\n"
        "FROM scratch\n"
        "COPY --from=one /a /b\n"
        "RUN false\n";
    EXPECT_EQ(lines_of(text, {{1, 2}, {2, 1}, {2, 3}}), (std::vector<int>{3, 4, 6}));
}

TEST(BuildahDiagnosis, FailingRunNamesDockerfileLineAndBuildahMessage) {
    BuildahOutputWatch watch;
    feed(watch, {"STEP 1/3: FROM scratch", "STEP 2/3: COPY busybox /bin/busybox", "--> a28176b99e7",
                 "STEP 3/3: RUN [\"/bin/busybox\",\"sh\",\"-c\",\"exit 3\"]", "subprocess exited with status 3",
                 "Error: building at STEP \"RUN /bin/busybox sh -c exit 3\": exit status 3"});
    const auto error =
        diagnose_build_failure(watch, 3, "Dockerfile", "FROM scratch\nCOPY busybox /bin/busybox\n\nRUN x\n");
    EXPECT_EQ(error.kind, util::ErrorKind::invalid_input);
    EXPECT_NE(error.message.find("Dockerfile:4: RUN [\"/bin/busybox\""), std::string::npos) << error.message;
    EXPECT_NE(error.message.find("exit status 3"), std::string::npos) << error.message;
}

TEST(BuildahDiagnosis, MultiStagePrefixIsParsed) {
    BuildahOutputWatch watch;
    feed(watch, {"[1/2] STEP 1/2: FROM scratch AS one", "[2/2] STEP 2/2: BOGUS x",
                 "Error: building at STEP \"BOGUS \": Build error: Unknown instruction: \"BOGUS\""});
    EXPECT_EQ(watch.last_stage_number(), 2);
    EXPECT_EQ(watch.last_step_number(), 2);
    const auto error =
        diagnose_build_failure(watch, 125, "sub/Dockerfile", "FROM scratch AS one\nFROM scratch\nBOGUS x\n");
    EXPECT_NE(error.message.find("sub/Dockerfile:3: BOGUS x: "), std::string::npos) << error.message;
}

TEST(BuildahDiagnosis, UnpullableFromImageIsNamedAsNotFound) {
    BuildahOutputWatch watch;
    feed(watch, {"STEP 1/2: FROM docker.io/library/alpine:3.18", "Trying to pull docker.io/library/alpine:3.18...",
                 "Error: creating build container: initializing source docker://alpine:3.18: pinging container "
                 "registry registry-1.docker.io: dial tcp: lookup registry-1.docker.io: no such host"});
    const auto error = diagnose_build_failure(watch, 125, "Dockerfile", "FROM docker.io/library/alpine:3.18\n");
    EXPECT_EQ(error.kind, util::ErrorKind::not_found);
    EXPECT_NE(error.message.find("FROM image docker.io/library/alpine:3.18 cannot be pulled"), std::string::npos)
        << error.message;
}

TEST(BuildahDiagnosis, MissingLocalFromImageIsNamedFromTheStep) {
    BuildahOutputWatch watch;
    feed(watch, {"STEP 1/2: FROM --platform=linux/amd64 localhost/nothere:1",
                 "Error: creating build container: localhost/nothere:1: image not known"});
    const auto error = diagnose_build_failure(watch, 125, "Dockerfile", "");
    EXPECT_EQ(error.kind, util::ErrorKind::not_found);
    EXPECT_NE(error.message.find("FROM image localhost/nothere:1 "), std::string::npos) << error.message;
}

TEST(BuildahDiagnosis, RecognisesTheCacheLookupRaceWithAConcurrentRemoval) {
    BuildahOutputWatch race;
    feed(race, {"STEP 4/4: RUN x",
                "Error: building at STEP \"RUN x\": checking if cached image exists from a "
                "previous build: getting top layer info: layer not known"});
    EXPECT_TRUE(is_storage_race(race));
    BuildahOutputWatch failed_run;
    feed(failed_run, {"STEP 4/4: RUN x", "Error: building at STEP \"RUN x\": exit status 1"});
    EXPECT_FALSE(is_storage_race(failed_run));
}

TEST(BuildahDiagnosis, WithoutStepsKeepsBuildahsLastError) {
    BuildahOutputWatch watch;
    feed(watch, {"Error: stat /ctx/nonexist: no such file or directory"});
    const auto error = diagnose_build_failure(watch, 125, "Dockerfile", "");
    EXPECT_EQ(error.message, "Dockerfile: buildah build failed: stat /ctx/nonexist: no such file or directory");
}

}  // namespace
}  // namespace hookyard::pipeline
