// Pushes to a real docker-registry with htpasswd basic auth, cross-checked with skopeo.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "http/client.hpp"
#include "pipeline/registry/oci_layout.hpp"
#include "tests/integration/registry/registry_fixture.hpp"
#include "tests/support/oci_layout_writer.hpp"

namespace hookyard::test {
namespace {

using Auth = RegistryServerOptions::Auth;

class BasicAuthPush : public ::testing::Test {
protected:
    RegistryServer registry{RegistryServerOptions{Auth::htpasswd}};
    TempDir dir;
};

TEST_F(BasicAuthPush, PushesImageThatSkopeoInspectsAndCopiesWithTheSameDigest) {
    // 20 MiB crosses the 8 MiB monolithic limit and, with 8 MiB chunks, is sent as three PATCHes.
    std::string digest;
    const auto image = test_image(dir / "layout", {1024, 20u << 20, 100u << 10}, 1, &digest);
    auto options = client_options(registry);
    options.chunk_size = 8u << 20;
    auto client = make_client(options);

    auto result = client->push(image, "team/app", {"v1", "latest"});
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->digest, digest);
    EXPECT_EQ(result->blobs_uploaded, 4u);  // 3 layers + config
    EXPECT_EQ(count_requests(registry.requests(), "PATCH", "/v2/team/app/blobs/uploads/"), 3);

    std::string error;
    EXPECT_EQ(skopeo_digest(registry, "team/app:v1", &error), digest) << error;
    EXPECT_EQ(skopeo_digest(registry, "team/app:latest", &error), digest) << error;
    std::string output;
    EXPECT_EQ(skopeo_copy_digest(registry, "team/app:v1", dir / "copy", &output), digest) << output;
}

TEST_F(BasicAuthPush, PushesALayoutExportedByBuildah) {
    // FROM scratch + static busybox, built and exported by buildah in its own storage under the temp dir.
    ASSERT_TRUE(have_program("buildah"));
    std::filesystem::create_directories(dir / "ctx");
    std::filesystem::copy_file("/bin/busybox", dir / "ctx/busybox");
    write_file(dir / "ctx/Dockerfile",
               "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"mkdir\", \"/data\"]\n");
    const std::vector<std::string> buildah = {"buildah",          "--root", dir / "storage", "--runroot", dir / "run",
                                              "--storage-driver", "vfs"};
    auto with = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = buildah;
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    };
    std::string output;
    ASSERT_EQ(
        run(with({"bud", "--isolation", "chroot", "-q", "-t", "localhost/registry-test:1", dir / "ctx"}), &output), 0)
        << output;
    ASSERT_EQ(run(with({"push", "-q", "localhost/registry-test:1", "oci:" + dir / "layout" + ":latest"}), &output), 0)
        << output;

    auto image = pipeline::load_oci_layout(dir / "layout", "latest");
    ASSERT_TRUE(image.ok()) << image.error().message;
    auto result = make_client(client_options(registry))->push(*image, "library/busybox", {"1.0"});
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->digest, image->root.descriptor.digest);
    std::string error;
    EXPECT_EQ(skopeo_digest(registry, "library/busybox:1.0", &error), result->digest) << error;
    EXPECT_EQ(skopeo_copy_digest(registry, "library/busybox:1.0", dir / "copy", &output), result->digest) << output;
}

TEST_F(BasicAuthPush, RepushOfTheSameImageUploadsNothing) {
    const auto image = test_image(dir / "layout", {4096, 3u << 20}, 2);
    auto client = make_client(client_options(registry));
    ASSERT_TRUE(client->push(image, "team/app", {"v1"}).ok());
    const std::size_t before = registry.requests().size();

    // A fresh client (no in-memory knowledge) must find everything by asking the registry.
    auto again = make_client(client_options(registry))->push(image, "team/app", {"v1"});
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(again->blobs_uploaded, 0u);
    EXPECT_EQ(again->blobs_skipped, 3u);
    EXPECT_EQ(again->manifests_put, 0u);
    const auto all = registry.requests();
    const std::vector<std::string> second(all.begin() + static_cast<long>(before), all.end());
    EXPECT_EQ(count_requests(second, "POST") + count_requests(second, "PUT") + count_requests(second, "PATCH"), 0);
    EXPECT_GT(count_requests(second, "HEAD"), 0);
}

TEST_F(BasicAuthPush, SecondRepositoryOnTheSameRegistryIsFilledByMounts) {
    std::string digest;
    const auto image = test_image(dir / "layout", {2u << 20, 10u << 20}, 3, &digest);
    auto client = make_client(client_options(registry));
    ASSERT_TRUE(client->push(image, "team/first", {"v1"}).ok());

    auto second = client->push(image, "other/second", {"v1"});
    ASSERT_TRUE(second.ok()) << second.error().message;
    EXPECT_EQ(second->blobs_mounted, 3u);
    EXPECT_EQ(second->blobs_uploaded, 0u);
    const auto requests = registry.requests();
    EXPECT_EQ(count_requests(requests, "POST", "/v2/other/second/blobs/uploads/?mount="), 3);
    EXPECT_EQ(count_requests(requests, "PATCH", "/v2/other/second/"), 0);
    EXPECT_EQ(skopeo_digest(registry, "other/second:v1"), digest);
}

TEST_F(BasicAuthPush, MultiPlatformIndexPushesEachManifestThenTheIndex) {
    OciLayoutWriter w(dir / "layout");
    const auto shared = w.add_random_blob(50000, 7);
    const auto amd = w.add_manifest({shared, w.add_random_blob(1000, 8)}, "amd", "amd64");
    const auto arm = w.add_manifest({shared, w.add_random_blob(2000, 9)}, "arm", "arm64");
    const auto index = w.add_index({{amd, "amd64"}, {arm, "arm64"}});
    w.set_root(index);
    auto image = pipeline::load_oci_layout(dir / "layout");
    ASSERT_TRUE(image.ok()) << image.error().message;
    ASSERT_EQ(image->children.size(), 2u);

    auto result = make_client(client_options(registry))->push(*image, "team/multi", {"v1"});
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->digest, index.digest);
    EXPECT_EQ(result->media_type, pipeline::k_oci_index);
    EXPECT_EQ(skopeo_digest(registry, "team/multi@" + arm.digest), arm.digest);
    std::string output;
    EXPECT_EQ(skopeo_copy_digest(registry, "team/multi:v1", dir / "copy", &output), index.digest) << output;
}

TEST_F(BasicAuthPush, WrongPasswordIsReportedAsRefusedCredentials) {
    const auto error = wrong_password_error(registry, test_image(dir / "layout", {1000}, 4), "team/app", "wrong");
    EXPECT_EQ(error.kind, util::ErrorKind::auth);
    EXPECT_NE(error.message.find("credentials for " + registry.host() + " were refused"), std::string::npos)
        << error.message;
    EXPECT_EQ(error.message.find("wrong"), std::string::npos) << "the password leaked into the error";
}

TEST_F(BasicAuthPush, MissingCredentialsAreReportedAsRequired) {
    const auto image = test_image(dir / "layout", {1000}, 5);
    auto options = client_options(registry);
    options.username.clear();
    options.password.clear();
    const auto error = push_error(options, image, "team/app");
    EXPECT_EQ(error.kind, util::ErrorKind::auth);
    EXPECT_NE(error.message.find("requires credentials"), std::string::npos) << error.message;
}

TEST_F(BasicAuthPush, CredentialsFileIsReadAgainAtEveryPush) {
    const auto image = test_image(dir / "layout", {1000}, 6);
    auto write_config = [&](const std::string& password) {
        write_file(dir / "config.json", R"({"auths":{")" + registry.host() + R"(":{"auth":")" +
                                            http::base64_encode(registry.username() + ":" + password) + R"("}}})");
    };
    auto options = client_options(registry);
    options.username.clear();
    options.password.clear();
    options.credentials_file = dir / "config.json";
    auto client = make_client(options);

    write_config("expired-token");
    auto refused = client->push(image, "team/app", {"v1"});
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().kind, util::ErrorKind::auth);

    write_config(registry.password());  // another tool refreshed the token
    auto pushed = client->push(image, "team/app", {"v1"});
    EXPECT_TRUE(pushed.ok()) << pushed.error().message;
}

TEST_F(BasicAuthPush, InvalidTagIsRejectedBeforeAnyUpload) {
    const auto image = test_image(dir / "layout", {1000}, 7);
    auto result = make_client(client_options(registry))->push(image, "team/app", {"-bad/tag"});
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(result.error().message.find("tag '-bad/tag' is invalid"), std::string::npos);
    EXPECT_EQ(count_requests(registry.requests(), "POST"), 0);
}

TEST_F(BasicAuthPush, CommandLinePushPrintsTheDigestForEveryReference) {
    const std::string digest = write_test_image(dir / "layout", {5000, 70000}, 8);
    write_file(dir / "config.json", R"({"auths":{"http://)" + registry.host() + R"(/v1/":{"auth":")" +
                                        http::base64_encode(registry.username() + ":" + registry.password()) +
                                        R"("}}})");
    std::string output;
    const int code = run({binary_dir() + "/hookyard", "push", dir / "layout", registry.host() + "/cli/app:v1",
                          registry.host() + "/cli/app:v2", registry.host() + "/cli/other", "--insecure-http",
                          "--credentials-file", dir / "config.json"},
                         &output);
    ASSERT_EQ(code, 0) << output;
    EXPECT_NE(output.find(registry.host() + "/cli/app:v2@" + digest), std::string::npos) << output;
    EXPECT_NE(output.find(registry.host() + "/cli/other:latest@" + digest), std::string::npos) << output;
    EXPECT_NE(output.find("3 mounted"), std::string::npos) << output;
    EXPECT_EQ(skopeo_digest(registry, "cli/other:latest"), digest);
}

TEST_F(BasicAuthPush, CorruptLayerIsDetectedWhileStreamingAndNeverCommitted) {
    OciLayoutWriter w(dir / "layout");
    const auto layer = w.add_random_blob(9u << 20, 9);  // over the monolithic limit: chunked
    w.set_root(w.add_manifest({layer}, "corrupt"));
    auto image = pipeline::load_oci_layout(dir / "layout");
    ASSERT_TRUE(image.ok());
    {
        // Same size, different last byte: only the streamed digest can notice.
        std::fstream f(w.blob_path(layer.digest), std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(layer.size - 1));
        f.put('\x42');
    }
    auto result = make_client(client_options(registry))->push(*image, "team/corrupt", {"v1"});
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, util::ErrorKind::invalid_input);
    EXPECT_NE(result.error().message.find("does not match digest " + layer.digest), std::string::npos)
        << result.error().message;
    EXPECT_EQ(count_requests(registry.requests(), "PUT", layer.digest), 0);
}

TEST_F(BasicAuthPush, CommandLineTakesThePasswordFromStdinAndTheRegistryFromTheConfig) {
    const std::string digest = write_test_image(dir / "layout", {5000}, 10);
    write_file(dir / "hookyard.yaml", "registries:\n  local: { endpoint: \"http://" + registry.host() +
                                          "\", username: nobody, password: wrong }\n");
    std::string output;
    const int code = sh("printf '%s\\n' '" + registry.password() + "' | " + binary_dir() + "/hookyard push " +
                            dir / "layout" + " " + registry.host() + "/cfg/app:v1 -c " + dir / "hookyard.yaml" +
                            " --username " + registry.username() + " --password-stdin",
                        &output);
    ASSERT_EQ(code, 0) << output;
    EXPECT_NE(output.find(registry.host() + "/cfg/app:v1@" + digest), std::string::npos) << output;

    // The config alone (wrong password, plain http taken from its endpoint) is refused with its message.
    const int refused = run({binary_dir() + "/hookyard", "push", dir / "layout", registry.host() + "/cfg/app:v2", "-c",
                             dir / "hookyard.yaml"},
                            &output);
    EXPECT_EQ(refused, 1);
    EXPECT_NE(output.find("credentials for " + registry.host() + " were refused"), std::string::npos) << output;
}

TEST_F(BasicAuthPush, CommandLineRejectsADirectoryThatIsNoLayout) {
    std::string output;
    const int code = run({binary_dir() + "/hookyard", "push", dir.path(), registry.host() + "/cli/app:v1"}, &output);
    EXPECT_EQ(code, 2);
    EXPECT_NE(output.find("is not an OCI image layout"), std::string::npos) << output;
}

}  // namespace
}  // namespace hookyard::test
