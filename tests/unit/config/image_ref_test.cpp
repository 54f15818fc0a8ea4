// OCI naming: the distribution spec's repository and tag grammars, Docker Hub's endpoint aliases and
// library/ rule, and Docker Hub-style tag sanitising.

#include "config/image_ref.hpp"

#include <gtest/gtest.h>

namespace hookyard::config {
namespace {

TEST(ImageNaming, RepositoryGrammar) {
    EXPECT_TRUE(is_valid_repository_name("acme/web"));
    EXPECT_TRUE(is_valid_repository_name("a/b_c/d__e/f-g--h/i.j"));
    EXPECT_FALSE(is_valid_repository_name("Acme/web"));
    EXPECT_FALSE(is_valid_repository_name("acme//web"));
    EXPECT_FALSE(is_valid_repository_name("acme/web-"));
    EXPECT_FALSE(is_valid_repository_name("acme/_web"));
    EXPECT_FALSE(is_valid_repository_name("a___b"));
    EXPECT_FALSE(is_valid_repository_name(""));
}

TEST(ImageNaming, TagGrammar) {
    EXPECT_TRUE(is_valid_tag("latest"));
    EXPECT_TRUE(is_valid_tag("_v1.2-rc.3"));
    EXPECT_TRUE(is_valid_tag(std::string(128, 'a')));
    EXPECT_FALSE(is_valid_tag(std::string(129, 'a')));
    EXPECT_FALSE(is_valid_tag(".hidden"));
    EXPECT_FALSE(is_valid_tag("-x"));
    EXPECT_FALSE(is_valid_tag("a/b"));
    EXPECT_FALSE(is_valid_tag(""));
}

TEST(ImageNaming, SanitizesLikeDockerHub) {
    EXPECT_EQ(sanitize_tag("feature/x"), "feature-x");
    EXPECT_EQ(sanitize_tag("fix #12: crash!"), "fix12crash");
    EXPECT_EQ(sanitize_tag("/lead"), "lead");
    EXPECT_EQ(sanitize_tag("%%%"), "");
}

TEST(ImageNaming, DockerHubEndpointAliases) {
    for (const char* e : {"docker.io", "index.docker.io", "registry-1.docker.io", "https://docker.io/"}) {
        const auto ep = normalize_endpoint(e);
        ASSERT_TRUE(ep) << e;
        EXPECT_EQ(ep->api_base, "https://registry-1.docker.io") << e;
        EXPECT_EQ(ep->host, "docker.io");
        EXPECT_TRUE(ep->docker_hub);
    }
}

TEST(ImageNaming, BareHostMeansHttpsAndHttpOnlyWhenWritten) {
    EXPECT_EQ(normalize_endpoint("ghcr.io")->api_base, "https://ghcr.io");
    EXPECT_EQ(normalize_endpoint("localhost:5000")->api_base, "https://localhost:5000");
    EXPECT_EQ(normalize_endpoint("http://127.0.0.1:5000")->api_base, "http://127.0.0.1:5000");
    EXPECT_EQ(normalize_endpoint("HTTPS://GCR.IO")->host, "gcr.io");
    EXPECT_FALSE(normalize_endpoint("ftp://x"));
    EXPECT_FALSE(normalize_endpoint("https://user:pw@ghcr.io"));
    EXPECT_FALSE(normalize_endpoint("https://ghcr.io/v2/acme"));
    EXPECT_FALSE(normalize_endpoint(""));
}

TEST(ImageNaming, ParsesReferencesWithDockersHostRule) {
    auto r = parse_image_ref("busybox");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->host, "docker.io");
    EXPECT_EQ(r->repository, "library/busybox");
    EXPECT_EQ(r->tag, "");
    r = parse_image_ref("localhost:5000/acme/web:v1");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->host, "localhost:5000");
    EXPECT_EQ(r->repository, "acme/web");
    EXPECT_EQ(r->tag, "v1");
    EXPECT_EQ(r->str(), "localhost:5000/acme/web:v1");
    r = parse_image_ref("index.docker.io/acme/web:latest");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->host, "docker.io");
    EXPECT_FALSE(parse_image_ref("ghcr.io/Acme/web"));
    EXPECT_FALSE(parse_image_ref("ghcr.io/acme/web:bad+tag"));
    EXPECT_FALSE(parse_image_ref("ghcr.io/acme/web@sha256:abc"));
}

}  // namespace
}  // namespace hookyard::config
