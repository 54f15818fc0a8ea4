// Locating the context and Dockerfile inside a checkout, and refusing every way out of it.

#include "pipeline/checkout/locate.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;

class LocateFixture : public ::testing::Test {
protected:
    LocateFixture() : m_root(m_tmp / "checkout") {
        test::write_file(m_root + "/Dockerfile", "FROM scratch\n");
        test::write_file(m_root + "/services/api/Dockerfile", "FROM scratch\n");
        test::write_file(m_root + "/docker/app.Dockerfile", "FROM scratch\n");
        test::write_file(m_root + "/docker/readme.md", "hi\n");
        test::write_file(m_root + "/.git/Dockerfile", "not a real one\n");
        fs::create_directories(m_tmp / "outside");
        test::write_file(m_tmp / "outside/Dockerfile", "FROM scratch\n");
    }
    util::Error expect_error(const std::string& context, const std::string& dockerfile) {
        auto loc = locate(m_root, context, dockerfile);
        EXPECT_FALSE(loc.ok()) << "context '" << context << "' dockerfile '" << dockerfile << "' was accepted";
        return loc.ok() ? util::Error{} : loc.error();
    }

    // The message of the invalid_input error locate() must give.
    std::string invalid_input(const std::string& context, const std::string& dockerfile) {
        const auto e = expect_error(context, dockerfile);
        EXPECT_EQ(e.kind, util::ErrorKind::invalid_input) << e.message;
        return e.message;
    }

    test::TempDir m_tmp;
    std::string m_root;
};

TEST_F(LocateFixture, RootContextAndDefaultDockerfile) {
    auto loc = locate(m_root, "/", "");
    ASSERT_TRUE(loc.ok()) << loc.error().message;
    EXPECT_EQ(loc->context_dir, fs::canonical(m_root).string());
    EXPECT_EQ(loc->dockerfile, fs::canonical(m_root + "/Dockerfile").string());
    EXPECT_EQ(loc->dockerfile_rel, "Dockerfile");
}

TEST_F(LocateFixture, DockerfileIsRelativeToTheContext) {
    auto loc = locate(m_root, "services/api", "Dockerfile");
    ASSERT_TRUE(loc.ok()) << loc.error().message;
    EXPECT_EQ(loc->context_rel, "services/api");
    EXPECT_EQ(loc->dockerfile_rel, "services/api/Dockerfile");
}

TEST_F(LocateFixture, EmptyContextIsTheDockerfilesDirectory) {
    auto loc = locate(m_root, "", "docker/app.Dockerfile");
    ASSERT_TRUE(loc.ok()) << loc.error().message;
    EXPECT_EQ(loc->context_rel, "docker");
    EXPECT_EQ(loc->context_dir, fs::canonical(m_root + "/docker").string());
}

TEST_F(LocateFixture, DotDotThatStaysInsideIsAllowed) {
    auto loc = locate(m_root, "docker", "../services/api/Dockerfile");
    ASSERT_TRUE(loc.ok()) << loc.error().message;
    EXPECT_EQ(loc->dockerfile_rel, "services/api/Dockerfile");
}

TEST_F(LocateFixture, RejectsContextClimbingOut) {
    EXPECT_THAT(invalid_input("../outside", "Dockerfile"), ::testing::HasSubstr("'../outside'"));
    invalid_input("docker/../../outside", "Dockerfile");
}

TEST_F(LocateFixture, RejectsDockerfileClimbingOut) {
    EXPECT_THAT(invalid_input("/", "../outside/Dockerfile"), ::testing::HasSubstr("inside the repository"));
}

TEST_F(LocateFixture, RejectsAbsolutePaths) {
    EXPECT_THAT(invalid_input("/etc", "Dockerfile"), ::testing::HasSubstr("absolute"));
    invalid_input("/", "/etc/passwd");
}

TEST_F(LocateFixture, RejectsContextSymlinkedOutside) {
    fs::create_directory_symlink("/etc", m_root + "/etc-link");
    fs::create_directory_symlink("..", m_root + "/up");
    EXPECT_NE(expect_error("etc-link", "passwd").message.find("outside the checkout"), std::string::npos);
    EXPECT_NE(expect_error("up/outside", "Dockerfile").message.find("outside the checkout"), std::string::npos);
    EXPECT_NE(expect_error("up", "Dockerfile").message.find("outside the checkout"), std::string::npos);
}

TEST_F(LocateFixture, RejectsDockerfileSymlinkedOutside) {
    fs::create_symlink(m_tmp / "outside/Dockerfile", m_root + "/docker/Dockerfile");
    auto e = expect_error("docker", "Dockerfile");
    EXPECT_EQ(e.kind, util::ErrorKind::invalid_input);
    EXPECT_NE(e.message.find("outside the checkout"), std::string::npos) << e.message;
}

TEST_F(LocateFixture, SymlinkInsideTheCheckoutIsFine) {
    fs::create_symlink("../services/api/Dockerfile", m_root + "/docker/Dockerfile");
    auto loc = locate(m_root, "docker", "Dockerfile");
    ASSERT_TRUE(loc.ok()) << loc.error().message;
    EXPECT_EQ(loc->dockerfile, fs::canonical(m_root + "/services/api/Dockerfile").string());
}

TEST_F(LocateFixture, MissingDockerfileNamesThePathAndListsTheOnesThatExist) {
    auto e = expect_error("docker", "Dockerfile");
    EXPECT_EQ(e.kind, util::ErrorKind::not_found);
    EXPECT_NE(e.message.find("Dockerfile not found at docker/Dockerfile (context 'docker')"), std::string::npos)
        << e.message;
    EXPECT_NE(e.message.find("Dockerfile, docker/app.Dockerfile, services/api/Dockerfile;"), std::string::npos)
        << e.message;
    EXPECT_EQ(e.message.find(".git/"), std::string::npos) << e.message;
}

TEST_F(LocateFixture, MissingContextDirectoryIsNotFound) {
    auto e = expect_error("nope", "Dockerfile");
    EXPECT_EQ(e.kind, util::ErrorKind::not_found);
    EXPECT_NE(e.message.find("context directory 'nope'"), std::string::npos) << e.message;
}

TEST_F(LocateFixture, DockerfileThatIsADirectoryIsNotFound) {
    EXPECT_EQ(expect_error("/", "services").kind, util::ErrorKind::not_found);
}

}  // namespace
}  // namespace hookyard::pipeline
