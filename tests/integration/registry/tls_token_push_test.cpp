// TLS with a CA made by the test, and token auth with a JWT issuer made by the test: the registry
// verifies real certificates and real signed tokens.

#include <gtest/gtest.h>

#include "pipeline/registry/oci_layout.hpp"
#include "tests/integration/registry/registry_fixture.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/oci_layout_writer.hpp"

namespace hookyard::test {
namespace {

using Auth = RegistryServerOptions::Auth;

RegistryServerOptions tls_basic() {
    RegistryServerOptions o;
    o.auth = Auth::htpasswd;
    o.tls = true;
    return o;
}

TEST(TlsPush, PushesOverTlsWhenTheCaFileIsGiven) {
    RegistryServer registry(tls_basic());
    TempDir dir;
    std::string digest;
    const auto image = test_image(dir / "layout", {3000, 9u << 20}, 11, &digest);
    ASSERT_EQ(client_options(registry).api_base.rfind("https://", 0), 0u);

    auto result = make_client(client_options(registry), registry.ca_file())->push(image, "secure/app", {"v1"});
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->digest, digest);
    std::string error;
    EXPECT_EQ(skopeo_digest(registry, "secure/app:v1", &error), digest) << error;
    std::string output;
    EXPECT_EQ(skopeo_copy_digest(registry, "secure/app:v1", dir / "copy", &output), digest) << output;
}

TEST(TlsPush, UnknownCaFailsVerificationWithAHint) {
    RegistryServer registry(tls_basic());
    TempDir dir;
    const auto image = test_image(dir / "layout", {3000}, 12);

    const auto error = push_error(client_options(registry), image, "secure/app");
    EXPECT_EQ(error.kind, util::ErrorKind::invalid_input);
    EXPECT_NE(error.message.find("failed verification"), std::string::npos) << error.message;
    EXPECT_NE(error.message.find("ca_file"), std::string::npos) << error.message;
    EXPECT_TRUE(registry.requests().empty());
}

TEST(TlsPush, MissingCaFileIsAClearError) {
    http::ClientOptions options;
    options.ca_file = "/nonexistent/ca.pem";
    auto client = http::make_client(options);
    ASSERT_FALSE(client.ok());
    EXPECT_NE(client.error().message.find("cannot load CA file /nonexistent/ca.pem"), std::string::npos);
}

class TokenPush : public ::testing::Test {
protected:
    RegistryServer registry{RegistryServerOptions{Auth::token}};
    TempDir dir;
};

TEST_F(TokenPush, PushesWithABearerTokenFetchedOnceAndCached) {
    std::string digest;
    const auto image = test_image(dir / "layout", {3000, 40000, 9u << 20}, 13, &digest);
    auto client = make_client(client_options(registry));

    auto result = client->push(image, "tok/app", {"v1", "v2"});
    ASSERT_TRUE(result.ok()) << result.error().message << "\n" << registry.log();
    EXPECT_EQ(result->digest, digest);
    EXPECT_EQ(registry.tokens_issued(), 1);  // every request of the push reused the one token
    std::string error;
    EXPECT_EQ(skopeo_digest(registry, "tok/app:v2", &error), digest) << error;
    const int with_skopeo = registry.tokens_issued();  // skopeo fetches its own pull tokens

    // The next push to the same repository reuses the cached token too.
    auto again = client->push(image, "tok/app", {"v1"});
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(registry.tokens_issued(), with_skopeo);
}

TEST_F(TokenPush, ATokenTheRegistryNoLongerAcceptsIsReplaced) {
    std::string digest;
    const auto image = test_image(dir / "layout", {3000, 40000}, 17, &digest);
    // The first blob upload is answered as if the token had expired on the registry's side.
    bool expired = false;
    HttpTestServer proxy(registry.port(), [&](const ReceivedRequest& r) {
        if (r.method != "POST" || expired) return ServerAction::forward();
        expired = true;
        return ServerAction::respond(401, R"({"errors":[{"code":"UNAUTHORIZED","message":"token expired"}]})",
                                     {{"WWW-Authenticate", registry.token_challenge()}});
    });
    auto options = client_options(registry, proxy.host());
    options.parallel_uploads = 1;
    auto result = make_client(options)->push(image, "tok/app", {"v1"});
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->digest, digest);
    EXPECT_EQ(registry.tokens_issued(), 2);
}

TEST_F(TokenPush, MountsAcrossRepositoriesWithAPullScopeForTheSource) {
    const auto image = test_image(dir / "layout", {3000, 50000}, 14);
    auto client = make_client(client_options(registry));
    ASSERT_TRUE(client->push(image, "tok/one", {"v1"}).ok());
    auto second = client->push(image, "tok/two", {"v1"});
    ASSERT_TRUE(second.ok()) << second.error().message;
    EXPECT_EQ(second->blobs_mounted, 3u);
}

TEST_F(TokenPush, PushWithoutPushAccessIsDenied) {
    const auto image = test_image(dir / "layout", {3000}, 15);
    const auto error = push_error(client_options(registry), image, "readonly/app");
    EXPECT_EQ(error.kind, util::ErrorKind::auth);
    EXPECT_NE(error.message.find("push to readonly/app on " + registry.host() + " was denied"), std::string::npos)
        << error.message;
}

TEST_F(TokenPush, WrongPasswordIsRefusedByTheTokenService) {
    const auto error = wrong_password_error(registry, test_image(dir / "layout", {3000}, 16), "tok/app", "nope");
    EXPECT_EQ(error.kind, util::ErrorKind::auth);
    EXPECT_NE(error.message.find("credentials for " + registry.host() + " were refused"), std::string::npos)
        << error.message;
}

}  // namespace
}  // namespace hookyard::test
