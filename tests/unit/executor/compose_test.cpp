// The Compose subset of the test stage: what is read, the start order, and FILE:LINE errors for the rest.

#include "pipeline/executor/compose.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

const std::map<std::string, std::string> k_vars{
    {"IMAGE_NAME", "reg.example/acme/app:latest"}, {"DOCKER_TAG", "latest"}, {"SOURCE_BRANCH", ""}};

util::Result<TestFile> parse(const std::string& text) {
    return parse_test_file("docker-compose.test.yml", text, k_vars);
}

std::string error_of(const std::string& text) {
    auto file = parse(text);
    EXPECT_FALSE(file.ok()) << text;
    return file.ok() ? "" : file.error().message;
}

TEST(ComposeTestFile, ReadsSutWithItsDependenciesFirstAndDropsUnrelatedServices) {
    auto file = parse(R"(version: "3"
services:
  sut:
    build: .
    command: sh -c 'wget -O- http://web:8080/ && echo "ok $$HOME"'
    environment:
      MODE: test
      RETRIES: 3
    working_dir: /srv
    depends_on: [web]
  web:
    image: $IMAGE_NAME
    entrypoint: ["httpd", "-f"]
    environment: ["PORT=8080"]
    depends_on:
      db: { condition: service_started }
  db:
    image: reg.example/library/db:${DOCKER_TAG}
  unused:
    image: elsewhere.example/never:pulled
)");
    ASSERT_TRUE(file.ok()) << file.error().message;
    ASSERT_EQ(file->services.size(), 3u);
    EXPECT_EQ(file->services[0].name, "db");
    EXPECT_EQ(file->services[0].image, "reg.example/library/db:latest");
    EXPECT_FALSE(file->services[0].build_image);
    EXPECT_EQ(file->services[1].name, "web");
    EXPECT_TRUE(file->services[1].build_image);
    EXPECT_EQ(*file->services[1].entrypoint, (std::vector<std::string>{"httpd", "-f"}));
    EXPECT_EQ(file->services[1].environment, (std::vector<std::string>{"PORT=8080"}));
    const auto& sut = file->services[2];
    EXPECT_EQ(sut.name, "sut");
    EXPECT_EQ(sut.line, 4);
    EXPECT_TRUE(sut.build_image);
    EXPECT_EQ(*sut.command, (std::vector<std::string>{"sh", "-c", "wget -O- http://web:8080/ && echo \"ok $HOME\""}));
    EXPECT_EQ(sut.environment, (std::vector<std::string>{"MODE=test", "RETRIES=3"}));
    EXPECT_EQ(sut.working_dir, "/srv");
}

TEST(ComposeTestFile, UnsupportedKeysAreErrorsNamingFileAndLine) {
    EXPECT_EQ(error_of("services:\n  sut:\n    build: .\n    ports: [\"80:80\"]\n")
                  .rfind("docker-compose.test.yml:4: services.sut.ports is not supported", 0),
              0u);
    EXPECT_EQ(error_of("services:\n  sut:\n    build: .\nvolumes:\n  data: {}\n")
                  .rfind("docker-compose.test.yml:4: volumes is not supported", 0),
              0u);
    EXPECT_EQ(error_of("services:\n  sut:\n    build: ./other\n").rfind("docker-compose.test.yml:3: build: only", 0),
              0u);
    const auto condition = error_of(
        "services:\n  sut:\n    build: .\n    depends_on:\n      db:\n        condition: service_healthy\n  db:\n"
        "    image: reg.example/db\n");
    EXPECT_EQ(
        condition.rfind("docker-compose.test.yml:6: depends_on db: condition: service_healthy is not supported", 0), 0u)
        << condition;
    EXPECT_NE(
        error_of("services:\n  sut:\n    image: x\n    environment: [HOME]\n").find(":4: environment entry 'HOME'"),
        std::string::npos);
}

TEST(ComposeTestFile, MissingSutUnknownDependencyCyclesAndVariablesAreErrors) {
    EXPECT_NE(error_of("services:\n  web:\n    build: .\n").find("no `sut` service"), std::string::npos);
    EXPECT_NE(
        error_of("services:\n  sut:\n    build: .\n    depends_on: [db]\n").find(":3: services.sut depends on 'db'"),
        std::string::npos);
    EXPECT_NE(
        error_of("services:\n  sut:\n    build: .\n    depends_on: [a]\n  a:\n    build: .\n    depends_on: [sut]\n")
            .find("depends on itself"),
        std::string::npos);
    const auto unset = error_of("services:\n  sut:\n    build: .\n    command: echo $API_TOKEN\n");
    EXPECT_EQ(unset.rfind("docker-compose.test.yml:4: variable 'API_TOKEN' is not set", 0), 0u) << unset;
    EXPECT_NE(error_of("services:\n  sut: [\n").find("docker-compose.test.yml:"), std::string::npos);
}

TEST(ComposeTestFile, VariablesTakeDefaultsAndEmptyValues) {
    auto file =
        parse("services:\n  sut:\n    build: .\n    command: [\"${MISSING:-fallback}\", \"[$SOURCE_BRANCH]\"]\n");
    ASSERT_TRUE(file.ok()) << file.error().message;
    EXPECT_EQ(*file->services[0].command, (std::vector<std::string>{"fallback", "[]"}));
}

TEST(ComposeCommand, SplitsLikeAShellWithoutExpanding) {
    EXPECT_EQ(*split_command(R"(a "b c" 'd $e' f\ g "h\"i")"),
              (std::vector<std::string>{"a", "b c", "d $e", "f g", "h\"i"}));
    EXPECT_FALSE(split_command("echo 'open").ok());
}

TEST(ComposeCommand, ContainerArgvFollowsDockersEntrypointAndCmdRule) {
    ComposeService s;
    const std::vector<std::string> entry{"/entry"};
    const std::vector<std::string> cmd{"serve"};
    EXPECT_EQ(container_argv(s, entry, cmd), (std::vector<std::string>{"/entry", "serve"}));
    s.command = std::vector<std::string>{"test"};
    EXPECT_EQ(container_argv(s, entry, cmd), (std::vector<std::string>{"/entry", "test"}));
    s.command.reset();
    s.entrypoint = std::vector<std::string>{"/bin/sh"};
    EXPECT_EQ(container_argv(s, entry, cmd), (std::vector<std::string>{"/bin/sh"}));
}

TEST(ComposeTestFiles, FoundNextToTheDockerfileInNameOrder) {
    test::TempDir dir;
    for (const char* name : {"z.test.yml", "docker-compose.test.yml", "docker-compose.yml", "a.test.yaml"}) {
        test::write_file(dir / name, "services: {}\n");
    }
    std::filesystem::create_directories(dir / "sub.test.yml");
    const auto files = find_test_files(dir.path());
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(std::filesystem::path(files[0]).filename(), "docker-compose.test.yml");
    EXPECT_EQ(std::filesystem::path(files[1]).filename(), "z.test.yml");
}

}  // namespace
}  // namespace hookyard::pipeline
