// The SLSA provenance statement of a build: subjects, parameters, dependencies; no build-arg values, no
// credentials of the clone URL.

#include "api/provenance.hpp"

#include <gtest/gtest.h>

using hookyard::api::provenance_statement;

TEST(Provenance, NamesWhatWentInAndOutAndNoSecret) {
    hookyard::storage::Build b;
    b.id = 7;
    b.repository = "acme/app";
    b.ref = "refs/tags/v1.0";
    b.commit = std::string(40, 'c');
    b.dockerfile = "docker/Dockerfile";
    b.clone_url = "https://x-access-token:ghs_secret@github.com/acme/app.git";
    b.build_args = {{"NPM_TOKEN", "npm-secret-value"}};
    b.base_images = {{"debian:12", "sha256:" + std::string(64, 'b')}};
    b.pushed = {{"registry.example.com/acme/app:1.0", "sha256:" + std::string(64, 'd')},
                {"platform:linux/amd64", "sha256:" + std::string(64, 'e')}};
    b.reused_from = 3;
    const auto doc = provenance_statement(b);
    EXPECT_EQ(doc["_type"], "https://in-toto.io/Statement/v1");
    EXPECT_EQ(doc["predicateType"], "https://slsa.dev/provenance/v1");
    ASSERT_EQ(doc["subject"].size(), 1u);
    EXPECT_EQ(doc["subject"][0]["name"], "registry.example.com/acme/app:1.0");
    EXPECT_EQ(doc["subject"][0]["digest"]["sha256"], std::string(64, 'd'));
    const auto& definition = doc["predicate"]["buildDefinition"];
    EXPECT_EQ(definition["externalParameters"]["dockerfile"], "docker/Dockerfile");
    EXPECT_EQ(definition["externalParameters"]["build_args"], nlohmann::json::array({"NPM_TOKEN"}));
    EXPECT_EQ(definition["internalParameters"]["reused_from"], 3);
    const auto& deps = definition["resolvedDependencies"];
    ASSERT_EQ(deps.size(), 2u);
    EXPECT_EQ(deps[0]["digest"]["gitCommit"], b.commit);
    EXPECT_EQ(deps[1]["uri"], "docker://debian:12");
    EXPECT_EQ(deps[1]["digest"]["sha256"], std::string(64, 'b'));
    const std::string text = doc.dump();
    EXPECT_EQ(text.find("npm-secret-value"), std::string::npos) << text;
    EXPECT_EQ(text.find("ghs_secret"), std::string::npos) << text;
}
