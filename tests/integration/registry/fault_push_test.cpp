// Pushes through a fault-injecting proxy in front of a real docker-registry: transient faults are
// survived with retries and backoff, permanent registry errors give their own messages.

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "pipeline/registry/oci_layout.hpp"
#include "tests/integration/registry/registry_fixture.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/oci_layout_writer.hpp"

namespace hookyard::test {
namespace {

using Auth = RegistryServerOptions::Auth;

// A request kind used by fault schedules: "POST upload", "PUT blob", "PATCH", "PUT manifest", "HEAD blob".
std::string kind_of(const ReceivedRequest& r) {
    if (r.target.find("/blobs/uploads/") != std::string::npos) {
        return r.method == "POST" ? "POST upload" : r.method == "PUT" ? "PUT blob" : r.method;
    }
    if (r.target.find("/manifests/") != std::string::npos) return r.method + " manifest";
    if (r.target.find("/blobs/") != std::string::npos) return r.method + " blob";
    return r.method + " other";
}

class FaultyRegistry : public ::testing::Test {
protected:
    void SetUp() override {
        digest = write_test_image(dir / "layout", {2000, 10u << 20, 30000}, 31);
        auto loaded = pipeline::load_oci_layout(dir / "layout");
        ASSERT_TRUE(loaded.ok());
        image = std::move(*loaded);
    }
    util::Result<pipeline::PushResult> push_via(HttpTestServer& proxy, int max_attempts = 6) {
        auto options = client_options(registry, proxy.host());
        options.chunk_size = 4u << 20;
        options.max_attempts = max_attempts;
        return make_client(options)->push(image, "team/app", {"v1"});
    }

    RegistryServer registry{RegistryServerOptions{Auth::htpasswd}};
    TempDir dir;
    std::string digest;
    pipeline::OciImage image;
};

TEST_F(FaultyRegistry, SurvivesDroppedConnectionsServerErrorsAndRateLimits) {
    // Per request kind, which occurrence (1-based) gets which fault.
    std::map<std::string, int> seen;
    HttpTestServer proxy(registry.port(), [&](const ReceivedRequest& r) {
        const std::string kind = kind_of(r);
        const int n = ++seen[kind];
        if (kind == "POST upload" && n == 1) return ServerAction::drop();
        if (kind == "PUT blob" && n == 1) return ServerAction::respond(500, R"({"errors":[{"code":"UNKNOWN"}]})");
        if (kind == "PATCH" && n == 2) return ServerAction::drop();  // reset in the middle of a chunked upload
        if (kind == "HEAD blob" && n == 2) return ServerAction::respond(503);
        if (kind == "PUT manifest" && n == 1) {
            return ServerAction::respond(429, R"({"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]})",
                                         {{"Retry-After", "1"}});
        }
        return ServerAction::forward();
    });

    auto result = push_via(proxy);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->digest, digest);
    EXPECT_EQ(proxy.faults_injected(), 5);
    std::string error;
    EXPECT_EQ(skopeo_digest(registry, "team/app:v1", &error), digest) << error;
}

TEST_F(FaultyRegistry, RetriesAfterAServerThatStopsAnswering) {
    std::map<std::string, int> seen;
    HttpTestServer proxy(registry.port(), [&](const ReceivedRequest& r) {
        const int n = ++seen[kind_of(r)];
        if ((kind_of(r) == "PATCH" && n == 1) || (kind_of(r) == "PUT manifest" && n == 1)) return ServerAction::stall();
        return ServerAction::forward();
    });
    auto options = client_options(registry, proxy.host());
    options.chunk_size = 4u << 20;
    auto result = make_client(options, "", std::chrono::milliseconds(500))->push(image, "team/app", {"v1"});
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->digest, digest);
    EXPECT_EQ(proxy.faults_injected(), 2);
    EXPECT_EQ(skopeo_digest(registry, "team/app:v1"), digest);
}

// An upload stalled by the registry would wait the whole I/O timeout (a minute by default); the build's
// cancel must end the push within a second.
TEST_F(FaultyRegistry, CancelEndsAStalledUploadWithinASecond) {
    HttpTestServer proxy(registry.port(), [&](const ReceivedRequest& r) {
        return kind_of(r) == "PATCH" ? ServerAction::stall() : ServerAction::forward();
    });
    auto options = client_options(registry, proxy.host());
    options.chunk_size = 4u << 20;
    auto client = make_client(options);
    pipeline::CancelToken token;
    std::chrono::steady_clock::time_point canceled_at;
    std::thread canceler([&] {
        const bool stalled = wait_until(
            [&] {
                for (const auto& r : proxy.requests()) {
                    if (r.method == "PATCH") return true;
                }
                return false;
            },
            std::chrono::seconds(30));
        EXPECT_TRUE(stalled) << "the chunked upload never started";
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the request now waits on the stall
        canceled_at = std::chrono::steady_clock::now();
        token.cancel(pipeline::CancelToken::Reason::canceled);
    });
    auto result = client->push(image, "team/app", {"v1"}, &token);
    const auto ended = std::chrono::steady_clock::now();
    canceler.join();
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, util::ErrorKind::canceled) << result.error().message;
    EXPECT_LT(ended - canceled_at, std::chrono::seconds(1));
}

TEST_F(FaultyRegistry, PersistentServerErrorsGiveUpAfterTheLastAttempt) {
    HttpTestServer proxy(registry.port(), [&](const ReceivedRequest& r) {
        return r.method == "POST" ? ServerAction::respond(503) : ServerAction::forward();
    });
    auto result = push_via(proxy, 3);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, util::ErrorKind::transient);
    EXPECT_NE(result.error().message.find("HTTP 503"), std::string::npos) << result.error().message;
    EXPECT_NE(result.error().message.find("gave up after 3 attempts"), std::string::npos) << result.error().message;
}

TEST_F(FaultyRegistry, MissingRepositoryTellsToCreateItFirst) {
    HttpTestServer proxy(registry.port(), [&](const ReceivedRequest& r) {
        if (r.method != "POST") return ServerAction::forward();
        return ServerAction::respond(
            404,
            R"({"errors":[{"code":"NAME_UNKNOWN","message":"The repository with name 'team/app' does not exist"}]})");
    });
    auto result = push_via(proxy);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, util::ErrorKind::not_found);
    EXPECT_NE(result.error().message.find("repository team/app does not exist on " + proxy.host() +
                                          "; create it first (ECR requires this)"),
              std::string::npos)
        << result.error().message;
}

TEST_F(FaultyRegistry, DeniedPushCarriesTheRegistryMessage) {
    HttpTestServer proxy(registry.port(), [&](const ReceivedRequest& r) {
        if (r.method != "POST") return ServerAction::forward();
        return ServerAction::respond(
            403, R"({"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]})");
    });
    auto result = push_via(proxy);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, util::ErrorKind::auth);
    EXPECT_NE(result.error().message.find("push to team/app on " + proxy.host() + " was denied"), std::string::npos)
        << result.error().message;
    EXPECT_NE(result.error().message.find("requested access to the resource is denied"), std::string::npos);
}

TEST_F(FaultyRegistry, RejectedTagCarriesTheRegistryMessage) {
    HttpTestServer proxy(registry.port(), [&](const ReceivedRequest& r) {
        if (kind_of(r) != "PUT manifest") return ServerAction::forward();
        return ServerAction::respond(
            400, R"({"errors":[{"code":"TAG_INVALID","message":"manifest tag did not match URI"}]})");
    });
    auto result = push_via(proxy);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(result.error().message.find("tag 'v1' was rejected by " + proxy.host()), std::string::npos)
        << result.error().message;
    EXPECT_NE(result.error().message.find("manifest tag did not match URI"), std::string::npos);
}

}  // namespace
}  // namespace hookyard::test
