// Challenge parsing and docker config.json credentials.

#include "pipeline/registry/auth.hpp"

#include <gtest/gtest.h>

#include "http/client.hpp"
#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

TEST(Challenge, ParsesBearerRealmServiceAndScope) {
    auto c = parse_challenge(
        R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push")");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->scheme, "bearer");
    EXPECT_EQ(c->params["realm"], "https://auth.docker.io/token");
    EXPECT_EQ(c->params["service"], "registry.docker.io");
    EXPECT_EQ(c->params["scope"], "repository:library/busybox:pull,push");
}

TEST(Challenge, ParsesBasicAndInsufficientScopeErrors) {
    auto basic = parse_challenge(R"(Basic realm="hookyard-test")");
    ASSERT_TRUE(basic);
    EXPECT_EQ(basic->scheme, "basic");
    auto scope = parse_challenge(R"(Bearer realm="r",error="insufficient_scope")");
    ASSERT_TRUE(scope);
    EXPECT_EQ(scope->params["error"], "insufficient_scope");
}

TEST(Challenge, RejectsUnknownSchemes) { EXPECT_FALSE(parse_challenge("Negotiate abc")); }

TEST(DockerConfig, FindsAuthByHostWithOrWithoutSchemeAndPath) {
    test::TempDir dir;
    test::write_file(dir / "config.json",
                     R"({"auths":{"https://gcr.io":{"auth":")" + http::base64_encode("_json_key:{\"k\":1}") +
                         R"("},"https://index.docker.io/v1/":{"auth":")" + http::base64_encode("hubuser:hubpass") +
                         R"("},"localhost:5000":{"username":"u","password":"p"}}})");
    auto gcr = read_docker_config(dir / "config.json", "gcr.io");
    ASSERT_TRUE(gcr.ok());
    ASSERT_TRUE(gcr->has_value());
    EXPECT_EQ((*gcr)->username, "_json_key");
    EXPECT_EQ((*gcr)->password, "{\"k\":1}");  // the password may itself contain ':'
    auto hub = read_docker_config(dir / "config.json", "docker.io");
    ASSERT_TRUE(hub.ok() && hub->has_value());
    EXPECT_EQ((*hub)->username, "hubuser");
    auto local = read_docker_config(dir / "config.json", "localhost:5000");
    ASSERT_TRUE(local.ok() && local->has_value());
    EXPECT_EQ((*local)->password, "p");
    auto none = read_docker_config(dir / "config.json", "ghcr.io");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
}

TEST(DockerConfig, MalformedFilesGiveClearErrorsWithoutSecrets) {
    test::TempDir dir;
    test::write_file(dir / "bad.json", "{not json");
    auto bad = read_docker_config(dir / "bad.json", "gcr.io");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("is not JSON"), std::string::npos);
    test::write_file(dir / "noauth.json", R"({"auths":{"gcr.io":{"auth":"c2VjcmV0"}}})");  // "secret", no colon
    auto noauth = read_docker_config(dir / "noauth.json", "gcr.io");
    ASSERT_FALSE(noauth.ok());
    EXPECT_NE(noauth.error().message.find("not base64(user:password)"), std::string::npos);
    EXPECT_EQ(noauth.error().message.find("secret"), std::string::npos);
    auto missing = read_docker_config(dir / "missing.json", "gcr.io");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("cannot read credentials file"), std::string::npos);
}

}  // namespace
}  // namespace hookyard::pipeline
