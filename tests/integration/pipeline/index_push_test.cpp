// The multi-platform push (RegistryPusher::push_platforms) against a real docker-registry: the Docker
// manifest list when the registry is configured for it, and the one-time fallback to it when a registry
// refuses the OCI index's media type (a proxy answering 415 stands in for such a registry). Cross-checked
// with skopeo.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pipeline/registry_pusher.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/log_lines.hpp"
#include "tests/support/oci_layout_writer.hpp"
#include "tests/support/registry_server.hpp"
#include "tests/support/support.hpp"

namespace hookyard::pipeline {
namespace {

constexpr const char* k_gzip_layer = "application/vnd.oci.image.layer.v1.tar+gzip";

class IndexPush : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* arch : {"amd64", "arm64"}) {
            test::OciLayoutWriter w(m_dir / arch);
            const auto shared = w.add_random_blob(40000, 3, k_gzip_layer);
            const auto own = w.add_random_blob(1000, arch[1] == 'm' ? 4 : 5, k_gzip_layer);
            w.set_root(w.add_manifest({shared, own}, arch, arch), "latest");
            m_request.platforms.push_back({std::string("linux/") + arch, m_dir / arch, "latest"});
        }
        m_request.images = {m_registry.host() + "/acme/app:v1"};
    }

    // Points the request at `host` (the registry itself or a proxy in front of it).
    void via(const std::string& host, config::ManifestFormat format) {
        m_request.registry.name = "local";
        m_request.registry.api_base = "http://" + host;
        m_request.registry.host = host;
        m_request.registry.manifest_format = format;
        for (auto& image : m_request.images) image = host + image.substr(image.find('/'));
    }

    // `skopeo inspect` of acme/app:v1 on the registry itself with `flags`, parsed.
    nlohmann::json inspect(const std::string& flags) {
        std::string out;
        EXPECT_EQ(test::sh("skopeo inspect --tls-verify=false " + flags + " docker://" + m_registry.host() +
                               "/acme/app:v1 2>&1",
                           &out),
                  0)
            << out;
        return nlohmann::json::parse(out, nullptr, false);
    }

    // The digest of the bytes at acme/app:v1 on the registry.
    std::string raw_digest() {
        std::string out;
        test::sh("skopeo inspect --tls-verify=false --raw docker://" + m_registry.host() + "/acme/app:v1 | sha256sum",
                 &out);
        return "sha256:" + out.substr(0, 64);
    }

    std::string log_text() const {
        std::string text;
        for (const auto& line : m_log.lines()) text += line + "\n";
        return text;
    }

    test::TempDir m_dir;
    test::RegistryServer m_registry;
    PushRequest m_request;
    test::LogLines m_log;
};

TEST_F(IndexPush, DockerFormatPushesAManifestListOfDockerManifests) {
    via(m_registry.host(), config::ManifestFormat::docker);
    RegistryPusher pusher;
    CancelToken token;
    auto pushed = pusher.push_platforms(m_request, m_log.sink(), token);
    ASSERT_TRUE(pushed.ok()) << pushed.error().message;
    const auto list = inspect("--raw");
    EXPECT_EQ(list.value("mediaType", ""), k_docker_manifest_list);
    ASSERT_EQ(list["manifests"].size(), 2u);
    EXPECT_EQ(list["manifests"][1]["mediaType"], k_docker_manifest);
    EXPECT_EQ(list["manifests"][1]["platform"]["architecture"], "arm64");
    EXPECT_EQ(pushed->digest, raw_digest());
    ASSERT_EQ(pushed->platforms.size(), 2u);
    EXPECT_EQ(pushed->platforms[1],
              std::make_pair(std::string("linux/arm64"), list["manifests"][1]["digest"].get<std::string>()));
    EXPECT_EQ(inspect("--override-arch arm64").value("Architecture", ""), "arm64");
}

TEST_F(IndexPush, RegistryRefusingTheOciIndexGetsDockerListsFromThenOnWithALogLine) {
    int refused = 0;
    test::HttpTestServer proxy(m_registry.port(), [&](const test::ReceivedRequest& r) {
        const auto type = r.headers.find("content-type");
        if (r.method == "PUT" && type != r.headers.end() && type->second == k_oci_index) {
            ++refused;
            return test::ServerAction::respond(415,
                                               R"({"errors":[{"code":"MANIFEST_INVALID","message":"unsupported"}]})");
        }
        return test::ServerAction::forward();
    });
    via(proxy.host(), config::ManifestFormat::oci);
    RegistryPusher pusher;
    CancelToken token;
    auto pushed = pusher.push_platforms(m_request, m_log.sink(), token);
    ASSERT_TRUE(pushed.ok()) << pushed.error().message;
    EXPECT_EQ(refused, 1);
    EXPECT_NE(log_text().find("refused the OCI image index"), std::string::npos) << log_text();
    EXPECT_EQ(inspect("--raw").value("mediaType", ""), k_docker_manifest_list);

    m_request.images = {proxy.host() + "/acme/app:v2"};
    auto again = pusher.push_platforms(m_request, m_log.sink(), token);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(refused, 1) << "a registry that refused the index once gets Docker lists from then on";
}

}  // namespace
}  // namespace hookyard::pipeline
