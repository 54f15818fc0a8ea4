// Submodules, recursively, with the superproject's credentials.

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "pipeline/checkout/checkout.hpp"
#include "tests/support/git_server.hpp"
#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

using test::SourceRepo;

// app → lib (../lib.git) → deep (../deep.git), all in one server root.
struct NestedRepos {
    explicit NestedRepos(const std::string& root) : deep(root, "deep"), lib(root, "lib"), app(root, "app") {
        const std::string deep_sha = deep.commit({{"deep.txt", "deep\n"}}, "deep");
        deep.push();
        lib.commit({{"lib.txt", "lib\n"}}, "lib");
        const std::string lib_sha = lib.add_submodule("deep", "../deep.git", deep_sha);
        lib.push();
        app.commit({{"Dockerfile", "FROM scratch\n"}}, "app");
        app_sha = app.add_submodule("vendor/lib", "../lib.git", lib_sha);
        app.push();
    }
    test::SourceRepo deep, lib, app;
    std::string app_sha;
};

// Checks the nested repositories out of a git daemon, with or without their submodules.
auto checkout_nested(const test::TempDir& tmp, bool submodules) {
    NestedRepos repos(tmp / "srv");
    test::GitDaemon daemon(tmp / "srv");
    MirrorCache cache(tmp / "mirrors");
    CheckoutRequest req{"acme/app", daemon.url("app.git"), "main", repos.app_sha, tmp / "work", submodules, {}};
    return make_checkout_service(cache)->checkout(req);
}

TEST(CheckoutSubmodules, ChecksOutSubmodulesRecursivelyWhenAsked) {
    test::TempDir tmp;
    auto co = checkout_nested(tmp, true);
    ASSERT_TRUE(co.ok()) << co.error().message;
    EXPECT_EQ(test::read_file(co->dir.path() + "/vendor/lib/lib.txt"), "lib\n");
    EXPECT_EQ(test::read_file(co->dir.path() + "/vendor/lib/deep/deep.txt"), "deep\n");
    EXPECT_EQ(co->submodules, (std::vector<std::string>{"vendor/lib", "vendor/lib/deep"}));
}

TEST(CheckoutSubmodules, LeavesSubmodulesEmptyWhenNotAsked) {
    test::TempDir tmp;
    auto co = checkout_nested(tmp, false);
    ASSERT_TRUE(co.ok()) << co.error().message;
    EXPECT_TRUE(std::filesystem::exists(co->dir.path() + "/Dockerfile"));
    EXPECT_FALSE(std::filesystem::exists(co->dir.path() + "/vendor/lib/lib.txt"));
    EXPECT_TRUE(co->submodules.empty());
}

TEST(CheckoutSubmodules, UsesTheSameCredentialsForPrivateSubmodules) {
    test::TempDir tmp;
    NestedRepos repos(tmp / "srv");
    test::GitHttpServer server(tmp / "srv", tmp.path(), "x-access-token", "sub-token-1234");
    MirrorCache cache(tmp / "mirrors");
    auto service = make_checkout_service(cache);

    GitAuth auth;
    auth.token = "sub-token-1234";
    auth.credential_name = "git.token of acme/app";
    CheckoutRequest req{"acme/app", server.url("app.git"), "main", repos.app_sha, tmp / "work", true, auth};
    auto co = service->checkout(req);
    ASSERT_TRUE(co.ok()) << co.error().message;
    EXPECT_EQ(test::read_file(co->dir.path() + "/vendor/lib/deep/deep.txt"), "deep\n");
}

TEST(CheckoutSubmodules, NeverSendsTheTokenToAnotherServer) {
    test::TempDir tmp;
    test::SourceRepo lib(tmp / "other", "lib");
    const std::string lib_sha = lib.commit({{"lib.txt", "lib\n"}}, "lib");
    lib.push();
    test::GitHttpServer other(tmp / "other", tmp.path(), "x-access-token", "sub-token-1234");
    test::SourceRepo app(tmp / "srv", "app");
    app.commit({{"a", "1\n"}}, "one");
    const std::string sha = app.add_submodule("lib", other.url("lib.git"), lib_sha);
    app.push();
    test::GitHttpServer server(tmp / "srv", tmp.path(), "x-access-token", "sub-token-1234");
    MirrorCache cache(tmp / "mirrors", RetryPolicy{1, std::chrono::milliseconds(1)});
    auto service = make_checkout_service(cache);

    GitAuth auth;
    auth.token = "sub-token-1234";
    auth.credential_name = "git.token of acme/app";
    CheckoutRequest req{"acme/app", server.url("app.git"), "main", sha, tmp / "work", true, auth};
    auto co = service->checkout(req);
    ASSERT_FALSE(co.ok());
    EXPECT_EQ(co.error().kind, util::ErrorKind::auth) << co.error().message;
    EXPECT_NE(co.error().message.find("submodule lib"), std::string::npos) << co.error().message;
    EXPECT_NE(co.error().message.find("only sent to 127.0.0.1"), std::string::npos) << co.error().message;
}

TEST(CheckoutSubmodules, MissingSubmoduleRepositoryNamesTheSubmodule) {
    test::TempDir tmp;
    test::SourceRepo app(tmp / "srv", "app");
    app.commit({{"a", "1\n"}}, "one");
    const std::string sha = app.add_submodule("ext", "../absent.git", std::string(40, 'a'));
    app.push();
    test::GitDaemon daemon(tmp / "srv");
    MirrorCache cache(tmp / "mirrors", RetryPolicy{1, std::chrono::milliseconds(1)});
    auto service = make_checkout_service(cache);

    CheckoutRequest req{"acme/app", daemon.url("app.git"), "main", sha, tmp / "work", true, {}};
    auto co = service->checkout(req);
    ASSERT_FALSE(co.ok());
    EXPECT_NE(co.error().message.find("submodule ext"), std::string::npos) << co.error().message;
    EXPECT_FALSE(std::filesystem::exists(tmp / "work"));  // the partial checkout was removed
}

// A superproject on git://127.0.0.1 whose submodule is `sub_url`, pinned at a real commit of `lib`.
struct OneSubmodule {
    OneSubmodule(const std::string& root, const std::function<std::string(const SourceRepo&)>& sub_url)
        : lib(root, "lib"), app(root, "app") {
        const std::string lib_sha = lib.commit({{"lib.txt", "lib\n"}}, "lib");
        lib.push();
        app.commit({{"a", "1\n"}}, "one");
        sha = app.add_submodule("lib", sub_url(lib), lib_sha);
        app.push();
    }
    test::SourceRepo lib, app;
    std::string sha;
};

// `localhost` is not the superproject's host `127.0.0.1`: fetched only once git.submodule_hosts lists it.
TEST(CheckoutSubmodules, FetchesFromAnotherHostOnlyWhenTheConfigListsIt) {
    test::TempDir tmp;
    std::filesystem::create_directories(tmp / "srv");
    test::GitDaemon daemon(tmp / "srv");  // serves what is pushed below
    OneSubmodule repos(tmp / "srv", [&](const SourceRepo&) {
        return "git://localhost:" + std::to_string(daemon.port()) + "/lib.git";
    });
    MirrorCache cache(tmp / "mirrors");
    auto service = make_checkout_service(cache);
    CheckoutRequest req{"acme/app", daemon.url("app.git"), "main", repos.sha, tmp / "work", true, {}};
    auto refused = service->checkout(req);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(refused.error().message.find("submodule lib"), std::string::npos) << refused.error().message;
    EXPECT_NE(refused.error().message.find("git.submodule_hosts"), std::string::npos) << refused.error().message;
    EXPECT_FALSE(std::filesystem::exists(tmp / "work"));

    req.submodule_policy.extra_hosts = {"LOCALHOST"};
    auto co = service->checkout(req);
    ASSERT_TRUE(co.ok()) << co.error().message;
    EXPECT_EQ(test::read_file(co->dir.path() + "/lib/lib.txt"), "lib\n");
}

// A file:// submodule could read another team's private mirror on the build host.
TEST(CheckoutSubmodules, RefusesLocalSubmodulesUnlessAllowed) {
    test::TempDir tmp;
    OneSubmodule repos(tmp / "srv", [](const SourceRepo& lib) { return "file://" + lib.bare(); });
    test::GitDaemon daemon(tmp / "srv");
    MirrorCache cache(tmp / "mirrors");
    auto service = make_checkout_service(cache);
    CheckoutRequest req{"acme/app", daemon.url("app.git"), "main", repos.sha, tmp / "work", true, {}};
    auto refused = service->checkout(req);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("submodule lib"), std::string::npos) << refused.error().message;
    EXPECT_NE(refused.error().message.find("git.allow_local_submodules: true"), std::string::npos)
        << refused.error().message;

    req.submodule_policy.allow_local = true;
    auto co = service->checkout(req);
    ASSERT_TRUE(co.ok()) << co.error().message;
    EXPECT_EQ(test::read_file(co->dir.path() + "/lib/lib.txt"), "lib\n");
}

// libgit2 reads the host of http://localhost:P?@127.0.0.1:P/lib.git as localhost; a naive parser sees 127.0.0.1.
TEST(CheckoutSubmodules, RefusesAmbiguousUrlsInsteadOfGuessingTheirHost) {
    test::TempDir tmp;
    OneSubmodule repos(tmp / "srv",
                       [](const SourceRepo&) { return std::string("http://localhost:1?@127.0.0.1:1/lib.git"); });
    test::GitHttpServer server(tmp / "srv", tmp.path(), "x-access-token", "sub-token-1234");
    MirrorCache cache(tmp / "mirrors", RetryPolicy{1, std::chrono::milliseconds(1)});
    auto service = make_checkout_service(cache);
    GitAuth auth;
    auth.token = "sub-token-1234";
    CheckoutRequest req{"acme/app", server.url("app.git"), "main", repos.sha, tmp / "work", true, auth};
    auto co = service->checkout(req);
    ASSERT_FALSE(co.ok());
    EXPECT_EQ(co.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(co.error().message.find("submodule lib"), std::string::npos) << co.error().message;
    EXPECT_NE(co.error().message.find("plain URL"), std::string::npos) << co.error().message;
    EXPECT_EQ(co.error().message.find("sub-token-1234"), std::string::npos);
}

}  // namespace
}  // namespace hookyard::pipeline
